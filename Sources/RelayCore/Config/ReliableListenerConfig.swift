import RelayProtocol

/// The keys only a `reliable-udp` listener takes: who may connect, how many at once, and what WELCOME offers.
/// Its `idle_timeout`, `backend` and `listen` are the listener's own keys.
public struct ReliableListenerConfig: Sendable, Equatable {
    /// The keys file as written in the config (`keys_file`, required): one `CLIENT_ID HEX_KEY` per line.
    public var keysFile: String
    /// Where it was read from: `keysFile` relative to the config file's directory.
    public var keysFilePath: String
    /// The clients and their pre-shared keys, read when the config is checked and again on every reload, so a
    /// changed file is one more reason a reload updates the listener in place.
    public var keys: KeysFile
    /// Sessions open at once (`max_sessions`, default 10000, 1 to 10,000,000): one more client is refused with
    /// REFUSED "server full", and the open sessions are not touched.
    public var maxSessions: Int
    /// Whether session packets are encrypted (`encryption`, default true); when false they are still
    /// authenticated, and only the payloads travel in clear.
    public var encryption: Bool
    /// The largest datagram the listener accepts and sends (`max_packet_size`, default 1200, 128 to 65,507): larger
    /// ones are dropped unread, and messages are cut into fragments that fit. 1200 fits the IPv6 minimum MTU.
    public var maxPacketSize: Int
    /// Whether relayd sends its DATA packets to clients twice (`redundancy`: "off", the default, "adaptive" or
    /// "always"): a lost packet then costs no retransmission round trip, for twice the bandwidth while it is on.
    public var redundancy: ReliableRedundancyMode
    /// The share of the last 256 DATA packets lost from which "adaptive" sends two copies
    /// (`redundancy_loss_threshold`, a percentage, default 0.5).
    public var redundancyLossThreshold: Double

    /// The redundancy the sessions get.
    public var sessionRedundancy: ReliableRedundancy {
        redundancy.redundancy(lossThresholdPercent: redundancyLossThreshold)
    }

    public init(keysFile: String, keysFilePath: String? = nil, keys: KeysFile = .empty,
                maxSessions: Int = 10_000, encryption: Bool = true,
                maxPacketSize: Int = ReliableWire.defaultPacketSize, redundancy: ReliableRedundancyMode = .off,
                redundancyLossThreshold: Double = 0.5) {
        self.keysFile = keysFile
        self.keysFilePath = keysFilePath ?? keysFile
        self.keys = keys
        self.maxSessions = maxSessions
        self.encryption = encryption
        self.maxPacketSize = maxPacketSize
        self.redundancy = redundancy
        self.redundancyLossThreshold = redundancyLossThreshold
    }

    /// The keys of a reliable-udp listener, whose object `fields` is reading. The keys file is read from
    /// `baseDirectory` when its path is relative; its problems are reported at `keys_file`, each as `file:line`.
    /// Returns a placeholder when a key failed (`fields` knows which).
    static func read(from fields: ConfigObjectReader, baseDirectory: String) -> ReliableListenerConfig {
        var config = ReliableListenerConfig(keysFile: "")
        let file = fields.required("keys_file", "the file of client ids and keys, one `CLIENT_ID HEX_KEY` a line, "
                                   + "such as \"keys.txt\"; `relayd keygen` prints such lines") { $0.keysFilePath() }
        if let file {
            config.keysFile = file
            config.keysFilePath = TextFile.resolve(file, in: baseDirectory)
            if let keys = readKeys(file, at: config.keysFilePath, fields: fields) { config.keys = keys }
        }
        fields.read("max_sessions", into: &config.maxSessions) { $0.integer(in: 1...10_000_000) }
        fields.read("encryption", into: &config.encryption) { $0.bool() }
        fields.read("max_packet_size", into: &config.maxPacketSize) {
            $0.integer(in: ReliableWire.minPacketSize...ReliableWire.maxDatagramSize)
        }
        fields.read("redundancy", into: &config.redundancy) { $0.choice(ReliableRedundancyMode.self) }
        fields.read("redundancy_loss_threshold", into: &config.redundancyLossThreshold) {
            $0.number(atLeast: 0, atMost: 100)
        }
        return config
    }

    /// The keys only this protocol takes: each is an error on a listener of another protocol.
    static let ownKeys = ["keys_file", "max_sessions", "encryption", "max_packet_size", "redundancy",
                          "redundancy_loss_threshold"]

    /// Reads and checks the keys file `name` found at `path`; nil (and a problem at `keys_file`) when it cannot.
    private static func readKeys(_ name: String, at path: String, fields: ConfigObjectReader) -> KeysFile? {
        let text: String
        do {
            text = try TextFile.read(path, kind: "a keys file")
        } catch {
            let place = name == path ? "" : " (at \(Logger.jsonString(path)))"
            fields.reject("keys_file", "cannot read the keys file \(Logger.jsonString(name))\(place): \(error.reason)")
            return nil
        }
        do {
            return try KeysFile.parse(text, file: name)
        } catch {
            fields.reject("keys_file", error.description)
            return nil
        }
    }
}

extension ConfigReader {
    /// The path of a keys file: a non-empty string.
    func keysFilePath() -> String? {
        guard case .string(let text) = value, !text.isEmpty else {
            return expected("the path of a keys file, such as \"keys.txt\"")
        }
        return text
    }
}

/// The `redundancy` of a reliable-udp listener or of `relayd connect`.
public enum ReliableRedundancyMode: String, Sendable, CaseIterable {
    case off, adaptive, always

    /// The session setting, with "adaptive" starting at `lossThresholdPercent`.
    public func redundancy(lossThresholdPercent: Double) -> ReliableRedundancy {
        switch self {
        case .off: .off
        case .adaptive: .adaptive(lossThreshold: Int((lossThresholdPercent * 10_000).rounded()))
        case .always: .always
        }
    }
}
