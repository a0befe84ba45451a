/// A backend group: the servers a `tcp` listener relays to, and how to choose among them. One entry of the
/// `backends` object, keyed by the group's name.
public struct BackendConfig: Sendable, Equatable {
    /// The group's key in `backends`, which listeners name in their `backend` key and logs show.
    public var name: String
    /// Where the servers are, as IP literals with a port (`servers`, required, at least one).
    public var servers: [Endpoint]
    /// How a server is picked for each new connection (`balance`, default `round_robin`).
    public var balance: BalanceAlgorithm
    /// How long to wait for a server to accept a connection before trying the next one (`connect_timeout`,
    /// default 1s, more than zero). Short, because a client is waiting.
    public var connectTimeout: Duration
    /// How many servers to try for one client connection before giving up (`max_connect_attempts`, default 0 =
    /// try every server once). Lower it for big groups, where trying all would keep a client waiting too long.
    public var maxConnectAttempts: Int

    public init(name: String, servers: [Endpoint], balance: BalanceAlgorithm = .roundRobin,
                connectTimeout: Duration = .seconds(1), maxConnectAttempts: Int = 0) {
        self.name = name
        self.servers = servers
        self.balance = balance
        self.connectTimeout = connectTimeout
        self.maxConnectAttempts = maxConnectAttempts
    }

    /// Reads the group `name` of `backends`; `node` is its value.
    static func read(name: String, from node: ConfigReader) -> BackendConfig? {
        // The name is the key; check it here since no other reader sees it.
        let validName = ConfigReader(value: .string(name), path: node.path, log: node.log).name() != nil
        return node.object { fields in
            let servers = fields.required("servers", "a list of \"ip:port\" addresses to relay to") { value in
                readServers(from: value)
            }
            var config = BackendConfig(name: name, servers: servers ?? [])
            fields.read("balance", into: &config.balance) { $0.choice(BalanceAlgorithm.self) }
            fields.read("connect_timeout", into: &config.connectTimeout) { $0.duration(allowZero: false) }
            fields.read("max_connect_attempts", into: &config.maxConnectAttempts) { $0.integer(in: 0...Int.max) }
            return validName && fields.isValid ? config : nil
        }
    }

    private static func readServers(from node: ConfigReader) -> [Endpoint]? {
        guard let elements = node.elements() else { return nil }
        guard !elements.isEmpty else { return node.expected("at least one server address") }
        var servers: [Endpoint] = []
        for element in elements {
            guard let server = element.endpoint() else { continue }
            guard server.port != 0 else {
                element.report("expected a server port from 1 to 65535, found 0")
                continue
            }
            servers.append(server)
        }
        return servers.count == elements.count ? servers : nil
    }
}
