/// The `cluster` section: several relayd nodes that agree on a leader, which probes the backends and publishes
/// their scores for every node to use.
public struct ClusterConfig: Sendable, Equatable {
    /// This node's id (`node_id`, required unless `mode` is off): 1-64 letters, digits, `_`, `.` and `-`. In
    /// static mode the smallest live id leads. Changing it needs a restart.
    public var nodeID: String?
    /// `off` (default), `static` or `etcd`.
    public var mode: ClusterMode
    /// Peers, key and timing for static mode (`static`).
    public var staticMode: StaticClusterConfig
    /// Endpoints, prefix and TTL for etcd mode (`etcd`).
    public var etcd: EtcdClusterConfig

    public init(nodeID: String? = nil, mode: ClusterMode = .off, staticMode: StaticClusterConfig = StaticClusterConfig(),
                etcd: EtcdClusterConfig = EtcdClusterConfig()) {
        self.nodeID = nodeID
        self.mode = mode
        self.staticMode = staticMode
        self.etcd = etcd
    }

    /// 1-64 characters of letters, digits, `_`, `.` and `-`.
    static func isValidNodeID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": true
            default: false
            }
        }
    }

    static func read(from node: ConfigReader, baseDirectory: String) -> ClusterConfig? {
        node.object { fields in
            var config = ClusterConfig()
            fields.read("node_id", into: &config.nodeID) { (value: ConfigReader) -> String? in
                guard case .string(let text) = value.value, isValidNodeID(text) else {
                    return value.expected("a node id of 1-64 letters, digits, `_`, `.` and `-`, such as \"n1\"")
                }
                return text
            }
            fields.read("mode", into: &config.mode) { $0.choice(ClusterMode.self) }
            fields.read("static", into: &config.staticMode) {
                StaticClusterConfig.read(from: $0, baseDirectory: baseDirectory)
            }
            fields.read("etcd", into: &config.etcd) { EtcdClusterConfig.read(from: $0) }
            guard fields.isValid else { return nil }
            switch config.mode {
            case .off:
                break
            case .static:
                if config.nodeID == nil {
                    fields.reject("node_id", "missing; every node of a cluster needs its own id, such as \"n1\"")
                }
                if config.staticMode.listen == nil {
                    fields.reject("static", "`static.listen` is missing: the address this node receives heartbeats on")
                } else if config.staticMode.keyFile == nil {
                    fields.reject("static", "`static.key_file` is missing: heartbeats are authenticated with a shared "
                                  + "key; create one with `relayd keygen --client-id CLUSTER`")
                } else if let id = config.nodeID, config.staticMode.peers.contains(where: { $0.nodeID == id }) {
                    fields.reject("static", "`static.peers` lists this node's own id `\(id)`; list only the others")
                }
            case .etcd:
                if config.nodeID == nil {
                    fields.reject("node_id", "missing; every node of a cluster needs its own id, such as \"n1\"")
                }
            }
            return fields.isValid ? config : nil
        }
    }
}
