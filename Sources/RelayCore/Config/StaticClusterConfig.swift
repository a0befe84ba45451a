import RelayProtocol

/// The `cluster.static` section: a fixed set of nodes that send each other authenticated UDP heartbeats.
public struct StaticClusterConfig: Sendable, Equatable {
    /// Where this node receives heartbeats (`listen`, required in static mode), such as `127.0.0.1:7946`.
    public var listen: Endpoint?
    /// The other nodes (`peers`, `["n2@127.0.0.1:7947", ...]`); may be empty for a cluster of one.
    public var peers: [ClusterPeer]
    /// The file holding the shared key (`key_file`, required in static mode): one `CLUSTER HEX_KEY` line as
    /// `relayd keygen --client-id CLUSTER` prints it, the same on every node.
    public var keyFile: String?
    /// The key read from `keyFile` when the config was read (32 bytes).
    public var key: [UInt8]
    /// How often a heartbeat goes to each peer (`heartbeat`, default 500ms).
    public var heartbeat: Duration
    /// A peer with no heartbeat for this long is dead (`dead_after`, default 2s, at least two heartbeats).
    public var deadAfter: Duration

    public init(listen: Endpoint? = nil, peers: [ClusterPeer] = [], keyFile: String? = nil, key: [UInt8] = [],
                heartbeat: Duration = .milliseconds(500), deadAfter: Duration = .seconds(2)) {
        self.listen = listen
        self.peers = peers
        self.keyFile = keyFile
        self.key = key
        self.heartbeat = heartbeat
        self.deadAfter = deadAfter
    }

    static func read(from node: ConfigReader, baseDirectory: String) -> StaticClusterConfig? {
        node.object { fields in
            var config = StaticClusterConfig()
            fields.read("listen", into: &config.listen) { $0.endpoint() }
            fields.read("peers", into: &config.peers) { value in
                guard let elements = value.elements() else { return nil }
                let peers = elements.compactMap { $0.clusterPeer() }
                guard peers.count == elements.count else { return nil }
                var seen: Set<String> = []
                for (peer, element) in zip(peers, elements) where !seen.insert(peer.nodeID).inserted {
                    element.report("node `\(peer.nodeID)` is listed twice; list each peer once")
                    return nil
                }
                return peers
            }
            fields.read("key_file", into: &config.keyFile) { (value: ConfigReader) -> String? in
                guard case .string(let text) = value.value, !text.isEmpty else {
                    return value.expected("the path of the cluster key file, such as \"cluster.key\"")
                }
                let path = TextFile.resolve(text, in: baseDirectory)
                let read: Result<String, TextFile.Failure> = Result { () throws(TextFile.Failure) in
                    try TextFile.read(path, kind: "a cluster key")
                }
                guard case .success(let contents) = read else {
                    if case .failure(let failure) = read {
                        value.report("cannot read the cluster key file \(Logger.jsonString(path)): \(failure.reason)")
                    }
                    return nil
                }
                do {
                    let keys = try KeysFile.parse(contents, file: path)
                    guard keys.entries.count == 1, let entry = keys.entries.first else {
                        return value.reject("the cluster key file \(Logger.jsonString(path)) must hold exactly one "
                                            + "`CLUSTER HEX_KEY` line (found \(keys.entries.count)); create one with "
                                            + "`relayd keygen --client-id CLUSTER` and copy it to every node")
                    }
                    config.key = entry.key
                } catch {
                    return value.reject("the cluster key file is not valid: \(error)")
                }
                return path
            }
            fields.read("heartbeat", into: &config.heartbeat) { $0.duration(allowZero: false) }
            fields.read("dead_after", into: &config.deadAfter) { $0.duration(allowZero: false) }
            if fields.isValid, config.deadAfter < config.heartbeat * 2 {
                fields.reject("dead_after", "must be at least two heartbeats (\(DurationParser.format(config.heartbeat * 2))) "
                              + "so one lost datagram does not declare a peer dead")
            }
            return fields.isValid ? config : nil
        }
    }
}

extension ConfigReader {
    /// `NODE_ID@host:port`.
    func clusterPeer() -> ClusterPeer? {
        let wanted = "a peer such as \"n2@127.0.0.1:7947\" (its node_id, `@`, its static.listen address)"
        guard case .string(let text) = value, let at = text.firstIndex(of: "@") else { return expected(wanted) }
        let id = String(text[..<at])
        guard ClusterConfig.isValidNodeID(id) else {
            return expected(wanted, hint: "a node id is 1-64 letters, digits, `_`, `.` and `-`")
        }
        do {
            return ClusterPeer(nodeID: id, address: try Endpoint(parsing: String(text[text.index(after: at)...])))
        } catch {
            return expected(wanted, hint: error.message)
        }
    }
}
