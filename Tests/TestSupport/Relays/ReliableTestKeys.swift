import Foundation
import RelayCore
import RelayProtocol

/// Client ids and keys for reliable-UDP tests, and a keys file listing them.
public enum ReliableTestKeys {
    /// A fixed key per client id (never all-zero): byte i is `i + seed`.
    public static func key(_ seed: UInt8) -> [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: Int($0) + Int(seed) + 1) }
    }

    /// The clients every test keys file lists.
    public static let clients: [(id: String, key: [UInt8])] = [("alice", key(1)), ("bob", key(2)), ("carol", key(3))]

    /// A keys file listing `clients`, written to a fresh temporary file; returns its path.
    public static func file(_ clients: [(id: String, key: [UInt8])] = clients) throws -> String {
        let text = "# test keys\n" + clients.map { KeysFile.line(clientID: $0.id, key: $0.key) + "\n" }.joined()
        return try temporaryFile(text, suffix: ".keys")
    }

    /// A client configuration for `id` with its key from `clients` (or `key` when given).
    public static func client(_ id: String = "alice", key: [UInt8]? = nil,
                              handshakeTimeout: Duration = .seconds(30)) -> ReliableUDPClientConfiguration {
        let known = clients.first { $0.id == id }?.key ?? self.key(99)
        return ReliableUDPClientConfiguration(clientID: id, key: key ?? known, handshakeTimeout: handshakeTimeout)
    }
}
