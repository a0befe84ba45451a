/// A backend group: the servers a `tcp` or `udp` listener relays to, and how to choose among them. One entry of
/// the `backends` object, keyed by the group's name.
public struct BackendConfig: Sendable, Equatable {
    /// The group's key in `backends`, which listeners name in their `backend` key and logs show.
    public var name: String
    /// The servers, those of `servers` first and then those of `servers_file`, with address blocks expanded;
    /// at least one, at most 65536, each listed once.
    public var servers: [ServerEntry]
    /// The port of servers written without one (`default_port`, 1 to 65535, default none: every server needs
    /// its port).
    public var defaultPort: UInt16?
    /// The server list file as written in the config (`servers_file`, default none), for messages and origins.
    public var serversFile: String?
    /// Where `serversFile` was read from: relative to the config file's directory, so a reload can read it again.
    public var serversFilePath: String?
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
    /// How servers are checked (`probe`). Its `kind` defaults to the protocol of the listeners that use the group
    /// (`udp` when only udp listeners do, otherwise `tcp`), and must be given when both kinds do.
    public var probe: ProbeParameters
    /// How probe results become a score (`scoring`).
    public var scoring: ScoringParameters
    /// How scores choose the servers that take traffic (`selector`).
    public var selector: SelectorParameters
    /// Connections opened ahead of time to the active servers (`pool`, default none).
    public var pool: PoolConfig
    /// The PROXY protocol header written first on every connection to a server (`send_proxy`: "off", "v1" or
    /// "v2", default "off"), so servers see the client's address instead of relayd's. TCP listeners only.
    public var sendProxy: ProxySendVersion = .off
    /// TLVs of the version 2 header (`proxy_v2_options`: "authority", "crc32c", "unique_id"; default none).
    public var proxyV2Options: Set<ProxyV2Option> = []

    public init(name: String, servers: [ServerEntry], balance: BalanceAlgorithm = .roundRobin,
                connectTimeout: Duration = .seconds(1), maxConnectAttempts: Int = 0, defaultPort: UInt16? = nil,
                serversFile: String? = nil, serversFilePath: String? = nil, dnsRefresh: Duration = .seconds(30),
                probe: ProbeParameters = ProbeParameters(), scoring: ScoringParameters = ScoringParameters(),
                selector: SelectorParameters = SelectorParameters(), pool: PoolConfig = PoolConfig()) {
        self.pool = pool
        self.name = name
        self.servers = servers
        self.balance = balance
        self.connectTimeout = connectTimeout
        self.maxConnectAttempts = maxConnectAttempts
        self.defaultPort = defaultPort
        self.serversFile = serversFile
        self.serversFilePath = serversFilePath
        self.dnsRefresh = dnsRefresh
        self.probe = probe
        self.scoring = scoring
        self.selector = selector
    }

    /// Reads the group `name` of `backends`; `node` is its value. A `servers_file` is read from `baseDirectory`
    /// when its path is relative; `probeKind` is the probe kind when the group's `probe.kind` is not given.
    static func read(name: String, from node: ConfigReader, baseDirectory: String,
                     probeKind: ProbeKindDefault = .tcp) -> BackendConfig? {
        // The name is the key; check it here since no other reader sees it.
        let validName = ConfigReader(value: .string(name), path: node.path, log: node.log).name() != nil
        return node.object { fields in
            var config = BackendConfig(name: name, servers: [])
            let serversNode = fields.optional("servers")
            let fileNode = fields.optional("servers_file")
            fields.read("default_port", into: &config.defaultPort) { value in
                value.integer(in: 1...65535).map { UInt16($0) }
            }
            // With a bad `default_port` its problem is already reported; a placeholder keeps servers without a
            // port from also being blamed for it.
            let defaultPort = fields.failedKeys.contains("default_port") ? 1 : config.defaultPort
            var builder = ServerListBuilder()
            if let serversNode, !readServers(from: serversNode, defaultPort: defaultPort, into: &builder,
                                             allowEmpty: fileNode != nil) {
                fields.markFailed("servers")
            }
            if let fileNode {
                fields.read("servers_file", into: &config.serversFile) { $0.serverListPath() }
                if let file = config.serversFile {
                    let path = TextFile.resolve(file, in: baseDirectory)
                    config.serversFilePath = path
                    readServersFile(file, at: path, node: fileNode, fields: fields, defaultPort: defaultPort,
                                    into: &builder)
                }
                if fields.isValid, builder.entries.isEmpty, let file = config.serversFile {
                    let also = serversNode == nil ? "" : ", and `servers` is empty"
                    fields.reject("servers_file", "\(Logger.jsonString(file)) lists no servers\(also); a group needs "
                                  + "at least one server")
                }
            } else if serversNode == nil {
                fields.reject("servers", "missing; this key is required unless `servers_file` is given (a list of "
                              + "servers to relay to, such as \"10.0.0.1:8080\")")
            }
            config.servers = builder.entries
            fields.read("dns_refresh", into: &config.dnsRefresh) { $0.duration(allowZero: false) }
            fields.read("balance", into: &config.balance) { $0.choice(BalanceAlgorithm.self) }
            fields.read("connect_timeout", into: &config.connectTimeout) { $0.duration(allowZero: false) }
            fields.read("max_connect_attempts", into: &config.maxConnectAttempts) { $0.integer(in: 0...Int.max) }
            if fields.optional("probe") != nil {
                fields.read("probe", into: &config.probe) { ProbeParameters.read(from: $0, defaultKind: probeKind) }
            } else if let problem = probeKind.problem {
                let probePath = ConfigPath.key("probe", in: node.path)
                node.log.add(problem, at: ConfigPath.key("kind", in: probePath), anchor: node.path)
                fields.markFailed("probe")
            } else if probeKind == .udp {
                config.probe.kind = .udp(payload: ProbeParameters.defaultPayload)
            }
            fields.read("scoring", into: &config.scoring) { ScoringParameters.read(from: $0) }
            fields.read("selector", into: &config.selector) { SelectorParameters.read(from: $0) }
            fields.read("pool", into: &config.pool) { PoolConfig.read(from: $0) }
            fields.read("send_proxy", into: &config.sendProxy) { $0.choice(ProxySendVersion.self) }
            fields.read("proxy_v2_options", into: &config.proxyV2Options) { value in
                guard let elements = value.elements() else { return nil }
                let options = elements.map { $0.choice(ProxyV2Option.self) }
                return options.contains { $0 == nil } ? nil : Set(options.compactMap { $0 })
            }
            if !config.proxyV2Options.isEmpty, config.sendProxy != .v2, !fields.failedKeys.contains("send_proxy") {
                fields.reject("proxy_v2_options", "TLVs go in a version 2 header: set `send_proxy` to \"v2\"")
            }
            if config.probe.proxyHeader != .off {
                if config.sendProxy == .off, !fields.failedKeys.contains("send_proxy") {
                    let probePath = ConfigPath.key("probe", in: node.path)
                    node.log.add("true, but the group sends no PROXY header (`send_proxy` is off); set `send_proxy` "
                                 + "to \"v1\" or \"v2\", or remove this key",
                                 at: ConfigPath.key("send_proxy", in: probePath), anchor: node.path)
                    fields.markFailed("probe")
                }
                config.probe.proxyHeader = config.sendProxy
            }
            return validName && fields.isValid ? config : nil
        }
    }

    /// Reads `servers` into `builder`, reporting each bad entry at its own path; false if any was bad. An empty
    /// list is fine when a `servers_file` supplies the servers.
    private static func readServers(from node: ConfigReader, defaultPort: UInt16?,
                                    into builder: inout ServerListBuilder, allowEmpty: Bool) -> Bool {
        guard let elements = node.elements() else { return false }
        guard allowEmpty || !elements.isEmpty else {
            node.report("expected at least one server address, found an empty array")
            return false
        }
        var valid = true
        for element in elements {
            guard !builder.isFull else { break }
            guard let (parsed, weight, addressNode) = readServer(element, defaultPort: defaultPort) else {
                valid = false
                continue
            }
            if let problem = builder.add(parsed, weight: weight, origin: element.path) {
                addressNode.report(problem)
                valid = false
            }
        }
        return valid
    }

    /// One element of `servers`: an address string, or `{ address, weight }`. Returns the node holding the
    /// address too, where problems with the address as a whole (a repeat, a block too large) are reported.
    private static func readServer(_ element: ConfigReader, defaultPort: UInt16?)
        -> (parsed: ServerSpec.Parsed, weight: Int, addressNode: ConfigReader)? {
        switch element.value {
        case .string:
            return element.serverAddress(defaultPort: defaultPort).map { ($0, 1, element) }
        case .object:
            return element.object { fields in
                var addressNode = element
                let parsed = fields.required("address", "the server's address, such as \"10.0.0.1:8080\"") { value in
                    addressNode = value
                    return value.serverAddress(defaultPort: defaultPort)
                }
                var weight = 1
                fields.read("weight", into: &weight) { $0.integer(in: ServerEntry.weights) }
                guard let parsed, fields.isValid else { return nil }
                return (parsed, weight, addressNode)
            }
        default:
            return element.expected("a server address such as \(ServerSpec.examples), or an object "
                                    + "{ address, weight }")
        }
    }

    /// Reads the server list `name`, found at `path`, into `builder` after the servers of `servers`. Problems
    /// inside the file are reported at `servers_file` (`node`), each starting with the file's name and line.
    private static func readServersFile(_ name: String, at path: String, node: ConfigReader,
                                        fields: ConfigObjectReader, defaultPort: UInt16?,
                                        into builder: inout ServerListBuilder) {
        let text: String
        do {
            text = try TextFile.read(path, kind: "a server list")
        } catch {
            fields.reject("servers_file", ServerListFile.unreadableMessage(name: name, path: path, error: error))
            return
        }
        ServerListFile.read(text: text, name: name, defaultPort: defaultPort, into: &builder) { location, message in
            node.report("\(location): \(message)")
            fields.markFailed("servers_file")
        }
    }
}

extension ConfigReader {
    /// A server address in any of the forms of `ServerSpec`; `defaultPort` is the group's `default_port`.
    func serverAddress(defaultPort: UInt16?) -> ServerSpec.Parsed? {
        let wanted = "a server address such as \(ServerSpec.examples)"
        guard case .string(let text) = value else { return expected(wanted) }
        do {
            return try ServerSpec.parse(text, defaultPort: defaultPort)
        } catch {
            return expected(wanted, hint: error.message)
        }
    }

    /// The path of a server list file: a non-empty string.
    func serverListPath() -> String? {
        guard case .string(let text) = value, !text.isEmpty else {
            return expected("the path of a server list file, such as \"servers.txt\"")
        }
        return text
    }
}
