/// The whole configuration of the daemon, read from one JSON5 file.
///
/// Every key has a default, so `{}` is a valid config (one that listens nowhere). Reading never stops at the first
/// problem: `parse` and `load` report every unknown key, bad value and inconsistency at once, each with its path
/// and line, so one round of edits fixes them all.
public struct RelayConfig: Sendable, Equatable {
    /// What to listen on and what to do with the connections (`listeners`, default none).
    public var listeners: [ListenerConfig]
    /// Groups of servers that `tcp` and `udp` listeners relay to, by group name (`backends`, default none). Groups
    /// are named rather than written inside each listener so several listeners can share one.
    public var backends: [String: BackendConfig]
    /// On shutdown, how long open connections may take to finish before they are closed (`drain_timeout`,
    /// default 30s). Zero closes them at once.
    public var drainTimeout: Duration
    /// Log level and format (`log`).
    public var log: LogConfig
    /// Threads and buffers (`io`).
    public var io: IOConfig
    /// The Prometheus endpoint (`metrics`, default none).
    public var metrics: MetricsConfig
    /// The admin API and dashboard (`admin`, default none).
    public var admin: AdminConfig
    /// Several nodes that share one leader's probes (`cluster`, default mode off).
    public var cluster: ClusterConfig

    public init(listeners: [ListenerConfig] = [], backends: [String: BackendConfig] = [:],
                drainTimeout: Duration = .seconds(30), log: LogConfig = LogConfig(), io: IOConfig = IOConfig(),
                metrics: MetricsConfig = MetricsConfig(), admin: AdminConfig = AdminConfig(),
                cluster: ClusterConfig = ClusterConfig()) {
        self.listeners = listeners
        self.backends = backends
        self.drainTimeout = drainTimeout
        self.log = log
        self.io = io
        self.metrics = metrics
        self.admin = admin
        self.cluster = cluster
    }

    /// Reads a config from JSON5 text: comments, unquoted keys, single quotes, trailing commas, hex numbers and the
    /// rest of https://spec.json5.org. Relative paths in it (`servers_file`) are read from `baseDirectory`, by
    /// default the working directory.
    public static func parse(_ text: String, baseDirectory: String = ".") throws(ConfigError) -> RelayConfig {
        let document: JSON5Document
        do {
            document = try JSON5Document(parsing: text)
        } catch {
            throw ConfigError(issues: [ConfigIssue(path: "", message: "invalid JSON5: \(error.message)",
                                                   line: error.position.line, column: error.position.column)])
        }
        let log = ConfigIssueLog(positions: document.positions)
        for duplicate in document.duplicates {
            log.add("this key is already set at line \(duplicate.first.line), column \(duplicate.first.column); "
                    + "keep only one of them", at: duplicate.path, position: duplicate.position)
        }
        let config = read(from: ConfigReader(value: document.value, path: "", log: log), baseDirectory: baseDirectory)
        if let config, log.isEmpty { return config }
        if log.isEmpty { log.add("the config could not be read", at: "") }
        throw ConfigError(issues: log.issues)
    }

    /// Reads a config file, with relative paths in it taken from the file's directory. A file that cannot be read
    /// is reported with its path and the system's reason.
    public static func load(path: String) throws(ConfigError) -> RelayConfig {
        let text: String
        do {
            text = try TextFile.read(path, kind: "a config")
        } catch {
            let message = "cannot read the config file \(Logger.jsonString(path)): \(error.reason)"
            throw ConfigError(path: "", message: message)
        }
        return try parse(text, baseDirectory: TextFile.directory(of: path))
    }

    /// Reads the top-level object, then checks what no single section can check alone.
    private static func read(from root: ConfigReader, baseDirectory: String) -> RelayConfig? {
        root.object { fields in
            var config = RelayConfig()
            // Every listener that is an object, with its path and the keys that failed, for the cross-checks.
            var readListeners: [ListenerReading] = []
            // The names of the backend groups, even those with errors, so a listener naming a broken group is not
            // also told the group does not exist. Nil when `backends` is not an object at all.
            var groupNames: [String]? = []

            fields.read("listeners", into: &config.listeners) { value in
                guard let elements = value.elements() else { return nil }
                for element in elements {
                    guard let (listener, failedKeys) = ListenerConfig.read(from: element, baseDirectory: baseDirectory) else {
                        continue
                    }
                    readListeners.append(ListenerReading(path: element.path, config: listener, failedKeys: failedKeys))
                }
                let valid = readListeners.filter(\.failedKeys.isEmpty)
                return valid.count == elements.count ? valid.map(\.config) : nil
            }
            fields.read("backends", into: &config.backends) { value in
                guard let members = value.members() else {
                    groupNames = nil
                    return nil
                }
                groupNames = members.map(\.key)
                let probeKinds = probeKindDefaults(readListeners)
                var groups: [String: BackendConfig] = [:]
                for member in members {
                    guard let group = BackendConfig.read(name: member.key, from: member.value,
                                                         baseDirectory: baseDirectory,
                                                         probeKind: probeKinds[member.key] ?? .tcp) else { continue }
                    groups[member.key] = group
                }
                return groups.count == members.count ? groups : nil
            }
            fields.read("drain_timeout", into: &config.drainTimeout) { $0.duration(allowZero: true) }
            fields.read("log", into: &config.log) { LogConfig.read(from: $0, baseDirectory: baseDirectory) }
            fields.read("io", into: &config.io) { IOConfig.read(from: $0) }
            fields.read("metrics", into: &config.metrics) { MetricsConfig.read(from: $0) }
            fields.read("admin", into: &config.admin) { AdminConfig.read(from: $0) }
            fields.read("cluster", into: &config.cluster) { ClusterConfig.read(from: $0, baseDirectory: baseDirectory) }

            checkNames(readListeners, log: root.log)
            checkBackends(readListeners, groupNames: groupNames, log: root.log)
            checkAddresses(readListeners, log: root.log)
            checkHTTPAddresses(config, readListeners, log: root.log)
            checkPools(config, readListeners, log: root.log)
            checkSendProxy(config, readListeners, log: root.log)
            return fields.isValid ? config : nil
        }
    }

    /// A listener as read, for the checks across listeners; a check skips a listener whose keys it needs failed.
    private struct ListenerReading {
        var path: String
        var config: ListenerConfig
        var failedKeys: Set<String>

        func hasValid(_ keys: String...) -> Bool { keys.allSatisfy { !failedKeys.contains($0) } }
    }

    /// The probe kind of each group used by a listener, for groups that do not give `probe.kind`: the protocol of
    /// the listeners that use it. Listeners whose `protocol` or `backend` failed are left out, their problem
    /// already reported.
    private static func probeKindDefaults(_ listeners: [ListenerReading]) -> [String: ProbeKindDefault] {
        var users: [String: [(proto: ListenerProtocol, name: String)]] = [:]
        for reading in listeners where reading.hasValid("protocol", "backend") {
            guard let backend = reading.config.backend else { continue }
            let name = reading.hasValid("name") ? "`\(reading.config.name)` (\(reading.path))" : reading.path
            users[backend, default: []].append((reading.config.proto, name))
            // A group a route sends to serves the listener's protocol too.
            for route in reading.config.routes where route.backend != backend {
                users[route.backend, default: []].append((reading.config.proto, name))
            }
        }
        return users.mapValues { ProbeKindDefault(users: $0) }
    }

    /// Listener names identify listeners in logs, so each may be used once.
    private static func checkNames(_ listeners: [ListenerReading], log: ConfigIssueLog) {
        var firstPathByName: [String: String] = [:]
        for reading in listeners where reading.hasValid("name") {
            let (path, listener) = (reading.path, reading.config)
            if let firstPath = firstPathByName[listener.name] {
                log.add("the name `\(listener.name)` is already used by \(firstPath); listener names must be unique",
                        at: ConfigPath.key("name", in: path))
            } else {
                firstPathByName[listener.name] = path
            }
        }
    }

    /// A `tcp` listener must name a group that exists, and so must each of its routes; an `echo` listener must
    /// name none.
    private static func checkBackends(_ listeners: [ListenerReading], groupNames: [String]?, log: ConfigIssueLog) {
        func unknown(_ backend: String, at path: String, groupNames: [String]) {
            let hint: String
            if let near = Spelling.suggestion(for: backend, among: groupNames) {
                hint = "did you mean `\(near)`?"
            } else if groupNames.isEmpty {
                hint = "`backends` defines no groups"
            } else {
                hint = "the groups are " + groupNames.map { "`\($0)`" }.joined(separator: ", ")
            }
            log.add("no backend group is named `\(backend)`; \(hint)", at: path)
        }
        for reading in listeners where reading.hasValid("protocol", "backend") {
            let (path, listener) = (reading.path, reading.config)
            let backendPath = ConfigPath.key("backend", in: path)
            if let groupNames, reading.hasValid("routes") {
                for (index, route) in listener.routes.enumerated() where !groupNames.contains(route.backend) {
                    let routePath = ConfigPath.index(index, in: ConfigPath.key("routes", in: path))
                    unknown(route.backend, at: ConfigPath.key("backend", in: routePath), groupNames: groupNames)
                }
            }
            switch listener.proto {
            case .tcp, .udp, .reliableUDP, .multipathServer:
                guard let backend = listener.backend else {
                    log.add("missing; a \(listener.proto.rawValue) listener needs the name of a group in `backends` to relay to",
                            at: backendPath, anchor: path)
                    continue
                }
                guard let groupNames, !groupNames.contains(backend) else { continue }
                unknown(backend, at: backendPath, groupNames: groupNames)
            case .http:
                // Optional: without it, a request no route matches is answered 404.
                guard let backend = listener.backend, let groupNames, !groupNames.contains(backend) else { continue }
                unknown(backend, at: backendPath, groupNames: groupNames)
            case .echo, .multipathClient:
                if listener.backend != nil {
                    log.add(listener.proto == .echo
                            ? "an echo listener answers by itself and takes no backend; remove this key"
                            : "a multipath-client listener sends to its `links`, not to a backend; remove this key",
                            at: backendPath)
                }
            }
        }
    }

    /// relayd writes the PROXY protocol header on TCP connections (either version) and before UDP datagrams
    /// (version 2 only, as the specification allows): a group that sends version 1 cannot serve a UDP listener,
    /// and no group that sends one can serve a reliable-UDP or multipath listener.
    private static func checkSendProxy(_ config: RelayConfig, _ listeners: [ListenerReading], log: ConfigIssueLog) {
        for reading in listeners where reading.hasValid("protocol", "backend")
            && (reading.config.proto.relaysUDP || reading.config.proto == .multipathServer
                || reading.config.proto == .http) {
            let proto = reading.config.proto
            let names = [reading.config.backend].compactMap { $0 } + reading.config.routes.map(\.backend)
            for name in Set(names).sorted() {
                guard let group = config.backends[name], group.sendProxy != .off,
                      proto != .udp || group.sendProxy == .v1 else { continue }
                let why = proto == .udp
                    ? "version 1 is text for TCP streams; a udp listener's group needs send_proxy \"v2\" (DGRAM) or none"
                    : proto == .http
                    ? "an http listener reuses server connections across clients and says who the client is in "
                        + "X-Forwarded-For and Forwarded; use a group without it"
                    : "a \(proto.rawValue) listener needs a group without it"
                log.add("group `\(name)` sends the PROXY protocol header (send_proxy \"\(group.sendProxy.rawValue)\"); "
                        + why, at: ConfigPath.key("backend", in: reading.path))
            }
        }
    }

    /// A pool opens TCP connections, so a group with one cannot serve a UDP listener.
    private static func checkPools(_ config: RelayConfig, _ listeners: [ListenerReading], log: ConfigIssueLog) {
        for reading in listeners where reading.hasValid("protocol", "backend")
            && (reading.config.proto.relaysUDP || reading.config.proto == .multipathServer) {
            guard let name = reading.config.backend, let group = config.backends[name], group.pool.isEnabled else {
                continue
            }
            log.add("group `\(name)` has a connection pool (pool.strategy `\(group.pool.strategy.rawValue)`), which "
                    + "opens TCP connections; a \(reading.config.proto.rawValue) listener needs a group without one "
                    + "(strategy \"none\")",
                    at: ConfigPath.key("backend", in: reading.path))
        }
    }

    /// The admin API and the metrics endpoint each need a TCP address of their own.
    private static func checkHTTPAddresses(_ config: RelayConfig, _ listeners: [ListenerReading], log: ConfigIssueLog) {
        var taken: [(Endpoint, String)] = listeners
            .filter { $0.hasValid("listen", "protocol") && $0.config.proto.isTCP && $0.config.listen.port != 0 }
            .map { ($0.config.listen, "listener `\($0.config.name)` (\($0.path))") }
        for (key, endpoint) in [("admin", config.admin.listen), ("metrics", config.metrics.listen)] {
            guard let endpoint, endpoint.port != 0 else { continue }
            if let clash = taken.first(where: { other in
                other.0.port == endpoint.port && other.0.isIPv6 == endpoint.isIPv6
                    && (other.0.host == endpoint.host || other.0.isWildcard || endpoint.isWildcard)
            }) {
                log.add("\(endpoint) is already used by \(clash.1); give `\(key)` a port of its own",
                        at: ConfigPath.key("listen", in: key))
            }
            taken.append((endpoint, "`\(key).listen`"))
        }
    }

    /// Two listeners cannot bind the same port on the same address, nor on an address and the wildcard of its
    /// family (`0.0.0.0:80` already covers `127.0.0.1:80`). Port 0 is exempt since the OS picks a free port.
    /// IPv4 against IPv6 wildcards is not checked: whether `[::]` also takes IPv4 depends on `IPV6_V6ONLY`.
    private static func checkAddresses(_ listeners: [ListenerReading], log: ConfigIssueLog) {
        let bound = listeners.filter { $0.hasValid("listen") && $0.config.listen.port != 0 }
        for (index, reading) in bound.enumerated() {
            let (path, address) = (reading.path, reading.config.listen)
            let clash = bound[..<index].first { earlier in
                let other = earlier.config.listen
                return other.port == address.port && other.isIPv6 == address.isIPv6
                    && earlier.config.proto.isTCP == reading.config.proto.isTCP
                    && (other.host == address.host || other.isWildcard || address.isWildcard)
            }
            guard let clash else { continue }
            let (otherPath, other) = (clash.path, clash.config)
            let conflict = other.listen == address
                ? "\(address) is already used by listener `\(other.name)` (\(otherPath))"
                : "\(address) overlaps \(other.listen) of listener `\(other.name)` (\(otherPath))"
            log.add("\(conflict); two listeners cannot bind the same port", at: ConfigPath.key("listen", in: path))
        }
    }
}
