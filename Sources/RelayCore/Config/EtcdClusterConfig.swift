/// The `cluster.etcd` section: where etcd's JSON gateway answers and how the cluster's keys are laid out.
public struct EtcdClusterConfig: Sendable, Equatable {
    /// etcd's client URLs (`endpoints`, default `["http://127.0.0.1:2379"]`): `http://host:port` only (relayd has
    /// no TLS); tried in turn when one fails.
    public var endpoints: [Endpoint]
    /// Every key relayd writes starts with this (`prefix`, default `/relayd/`): `PREFIX/members/NODE`,
    /// `PREFIX/leader`, `PREFIX/scores/GROUP`.
    public var prefix: String
    /// The lease TTL (`ttl`, default 3s, whole seconds, at least 2s): a node whose keepalives stop is gone
    /// after it, and a leader cut off from etcd steps down within it. Keepalives go every third of it.
    public var ttl: Duration

    public init(endpoints: [Endpoint]? = nil, prefix: String = "/relayd/", ttl: Duration = .seconds(3)) {
        self.endpoints = endpoints ?? [Endpoint(host: "127.0.0.1", port: 2379, isIPv6: false)]
        self.prefix = prefix
        self.ttl = ttl
    }

    /// The TTL in whole seconds, as etcd takes it.
    public var ttlSeconds: Int { Int(ttl.components.seconds) }

    static func read(from node: ConfigReader) -> EtcdClusterConfig? {
        node.object { fields in
            var config = EtcdClusterConfig()
            fields.read("endpoints", into: &config.endpoints) { value in
                guard let elements = value.elements() else { return nil }
                guard !elements.isEmpty else { return value.reject("list at least one etcd endpoint") }
                let endpoints = elements.compactMap { $0.etcdEndpoint() }
                return endpoints.count == elements.count ? endpoints : nil
            }
            fields.read("prefix", into: &config.prefix) { value in
                guard case .string(let text) = value.value, text.hasPrefix("/"), text.hasSuffix("/"),
                      text.count <= 200, text.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
                else {
                    return value.expected("a key prefix that starts and ends with `/`, such as \"/relayd/\"")
                }
                return text
            }
            fields.read("ttl", into: &config.ttl) { value in
                guard let ttl = value.duration(allowZero: false) else { return nil }
                guard ttl >= .seconds(2), ttl.components.attoseconds == 0 else {
                    return value.reject("expected whole seconds of at least 2s (etcd leases count in seconds)")
                }
                return ttl
            }
            return fields.isValid ? config : nil
        }
    }
}

extension ConfigReader {
    /// `http://host:port`, the form etcd prints its client URLs in.
    func etcdEndpoint() -> Endpoint? {
        let wanted = "an etcd client URL such as \"http://127.0.0.1:2379\""
        guard case .string(let text) = value else { return expected(wanted) }
        if text.hasPrefix("https://") { return expected(wanted, hint: "relayd speaks plain HTTP to etcd, not TLS") }
        guard text.hasPrefix("http://") else { return expected(wanted) }
        var rest = String(text.dropFirst(7))
        if rest.hasSuffix("/") { rest.removeLast() }
        do {
            return try Endpoint(parsing: rest)
        } catch {
            return expected(wanted, hint: error.message)
        }
    }
}
