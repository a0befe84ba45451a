/// A backend group: the servers a `tcp` listener relays to, and how to choose among them. One entry of the
/// `backends` object, keyed by the group's name.
public struct BackendConfig: Sendable, Equatable {
    /// The group's key in `backends`, which listeners name in their `backend` key and logs show.
    public var name: String
    /// Where the servers are, as IP literals with a port (`servers`, required, at least one).
    public var servers: [Endpoint]
    /// How often host names among the servers are resolved again (`dns_refresh`, default 30s, more than zero).
    public var dnsRefresh: Duration
    /// How a server is picked for each new connection (`balance`, default `round_robin`).
    public var balance: BalanceAlgorithm
    /// How long to wait for a server to accept a connection before trying the next one (`connect_timeout`,
    /// default 1s, more than zero). Short, because a client is waiting.
    public var connectTimeout: Duration
    /// How many servers to try for one client connection before giving up (`max_connect_attempts`, default 0 =
    /// try every server once). Lower it for big groups, where trying all would keep a client waiting too long.
    public var maxConnectAttempts: Int
    /// How servers are checked (`probe`).
    public var probe: ProbeParameters
    /// How probe results become a score (`scoring`).
    public var scoring: ScoringParameters
    /// How scores choose the servers that take traffic (`selector`).
    public var selector: SelectorParameters

    public init(name: String, servers: [Endpoint], balance: BalanceAlgorithm = .roundRobin,
                connectTimeout: Duration = .seconds(1), maxConnectAttempts: Int = 0,
                dnsRefresh: Duration = .seconds(30), probe: ProbeParameters = ProbeParameters(),
                scoring: ScoringParameters = ScoringParameters(), selector: SelectorParameters = SelectorParameters()) {
        self.name = name
        self.servers = servers
        self.balance = balance
        self.connectTimeout = connectTimeout
        self.maxConnectAttempts = maxConnectAttempts
        self.dnsRefresh = dnsRefresh
        self.probe = probe
        self.scoring = scoring
        self.selector = selector
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
            fields.read("dns_refresh", into: &config.dnsRefresh) { $0.duration(allowZero: false) }
            fields.read("balance", into: &config.balance) { $0.choice(BalanceAlgorithm.self) }
            fields.read("connect_timeout", into: &config.connectTimeout) { $0.duration(allowZero: false) }
            fields.read("max_connect_attempts", into: &config.maxConnectAttempts) { $0.integer(in: 0...Int.max) }
            fields.read("probe", into: &config.probe) { ProbeParameters.read(from: $0) }
            fields.read("scoring", into: &config.scoring) { ScoringParameters.read(from: $0) }
            fields.read("selector", into: &config.selector) { SelectorParameters.read(from: $0) }
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
