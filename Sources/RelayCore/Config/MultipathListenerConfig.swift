import RelayProtocol

/// The keys of a `multipath-client` or `multipath-server` listener (docs/multipath.md), beside the common
/// listener keys. The client's keys are nil at a server and the reverse.
public struct MultipathListenerConfig: Sendable, Equatable {
    /// Client: `links`, required, 1 to 255 paths to the same multipath server.
    public var links: [MultipathLinkConfig] = []
    /// Client: `client_id`, required, the id its key has in the server's keys file.
    public var clientID: String = ""
    /// Client: the 32-byte key of `client_id`, read from `key_file` (the keys-file format, `CLIENT_ID HEX_KEY`).
    public var key: [UInt8] = []
    /// Client: the LinkMonitor's knobs (`heartbeat_interval`, `loss_weight`, `redundancy`...), seed defaults.
    public var parameters = MultipathParameters()
    /// Server: every client's key by id, from `keys_file`.
    public var keys: [String: [UInt8]] = [:]
    /// Server: a link not heard from for this long is forgotten (`link_timeout`, default 10s, the seed server's
    /// `heartbeat_timeout_sec`).
    public var linkTimeout: Duration = .seconds(10)

    public init() {}

    /// The keys only multipath listeners take, to refuse them elsewhere.
    static let clientKeys = ["links", "client_id", "key_file", "heartbeat_interval", "heartbeat_timeout", "loss_window",
                             "loss_weight", "rtt_weight", "switch_threshold", "throughput_threshold_kbps",
                             "max_consecutive_fail", "dns_refresh", "redundancy", "redundancy_loss_threshold"]
    static let serverKeys = ["keys_file", "link_timeout"]

    /// Reads the role's keys from a listener object, refusing the other role's.
    static func read(from fields: ConfigObjectReader, server: Bool, baseDirectory: String) -> MultipathListenerConfig {
        var config = MultipathListenerConfig()
        let role = server ? "multipath-server" : "multipath-client"
        for key in server ? clientKeys : serverKeys where fields.optional(key) != nil {
            fields.reject(key, "a \(role) listener does not take `\(key)`; it belongs to a "
                          + (server ? "multipath-client" : "multipath-server") + " listener")
        }
        if server {
            if let keys = fields.required("keys_file", "the file of client keys, one `CLIENT_ID HEX_KEY` a line",
                                          { keysFile(from: $0, baseDirectory: baseDirectory) }) {
                config.keys = keys.keys
            }
            fields.read("link_timeout", into: &config.linkTimeout) { $0.duration(allowZero: false) }
            return config
        }
        config.links = fields.required("links", "the paths to the multipath server, such as "
                                       + #"[{ name: "a", remote: "203.0.113.7:7000" }]"#) { value in
            guard let elements = value.elements() else { return nil }
            if elements.isEmpty { return value.reject("expected at least one link") }
            if elements.count > MultipathWire.maxLinks {
                return value.reject("expected at most \(MultipathWire.maxLinks) links, found \(elements.count)")
            }
            let links = elements.compactMap(MultipathLinkConfig.read(from:))
            guard links.count == elements.count else { return nil }
            for issue in MultipathParameters.validate(links: links.map { MultipathLinkSpec(name: $0.name) }) {
                return value.reject(issue.message)
            }
            return links
        } ?? []
        let clientID = fields.required("client_id", "this client's id in the server's keys file") { value -> String? in
            guard case .string(let text) = value.value, ReliableClientID.isValid(text) else {
                return value.expected("1 to 64 characters of A-Z a-z 0-9 . _ @ -")
            }
            return text
        }
        if let clientID {
            config.clientID = clientID
            if let keys = fields.required("key_file", "the file holding this client's key, a `CLIENT_ID HEX_KEY` line",
                                          { keysFile(from: $0, baseDirectory: baseDirectory) }) {
                if let key = keys.keys[clientID] {
                    config.key = key
                } else {
                    fields.reject("key_file", "the key file has no line for client_id `\(clientID)`")
                }
            }
        } else {
            _ = fields.optional("key_file")
        }
        var parameters = MultipathParameters()
        fields.read("heartbeat_interval", into: &parameters.heartbeatInterval) { $0.duration(allowZero: false) }
        fields.read("heartbeat_timeout", into: &parameters.heartbeatTimeout) { $0.duration(allowZero: false) }
        fields.read("loss_window", into: &parameters.lossWindow) { $0.integer(in: 1...10_000) }
        fields.read("loss_weight", into: &parameters.lossWeight) { $0.number(atLeast: 0) }
        fields.read("rtt_weight", into: &parameters.rttWeight) { $0.number(atLeast: 0) }
        fields.read("switch_threshold", into: &parameters.switchThreshold) { $0.number(atLeast: 0, exclusive: true) }
        fields.read("throughput_threshold_kbps", into: &parameters.throughputThresholdKbps) {
            $0.number(atLeast: 0, exclusive: true)
        }
        fields.read("max_consecutive_fail", into: &parameters.maxConsecutiveFail) { $0.integer(in: 1...1_000) }
        fields.read("dns_refresh", into: &parameters.dnsRefresh) { $0.duration(allowZero: false) }
        fields.read("redundancy", into: &parameters.redundancy) { $0.choice(MultipathRedundancy.self) }
        fields.read("redundancy_loss_threshold", into: &parameters.redundancyLossThreshold) {
            $0.number(atLeast: 0, atMost: 100)
        }
        // What the single keys cannot see (a timeout below the interval, both weights zero), under the key named.
        for issue in parameters.validate() where fields.isValid {
            fields.reject(issue.key, issue.message)
        }
        config.parameters = parameters
        return config
    }

    /// The keys in the file a value names, or nil with the problem reported.
    private static func keysFile(from value: ConfigReader, baseDirectory: String) -> KeysFile? {
        guard case .string(let text) = value.value, !text.isEmpty else { return value.expected("a file path") }
        let path = TextFile.resolve(text, in: baseDirectory)
        do {
            let contents = try TextFile.read(path, kind: "a keys file")
            return try KeysFile.parse(contents, file: path)
        } catch let error as TextFile.Failure {
            return value.reject("cannot read the keys file \(Logger.jsonString(path)): \(error.reason)")
        } catch {
            return value.reject("\(error)")
        }
    }
}
