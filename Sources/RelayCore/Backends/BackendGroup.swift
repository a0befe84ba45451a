import RelayIO
import Synchronization

/// The servers of one backend group and how to reach them, as the forwarding path sees it.
///
/// For now the balancer is plain round robin over every configured server; a server that refuses or
/// times out is skipped and the next one tried, so a client never sees a dead server while a live one
/// exists (within `maxAttempts`).
public final class BackendGroup: Sendable {
    /// The group's name in the config.
    public let name: String
    /// The servers, in config order.
    public let servers: [SocketAddress]
    /// How long one connection attempt may take.
    public let connectTimeout: Duration
    /// Servers tried per client connection before giving up (at most one attempt per server).
    public let maxAttempts: Int
    /// Socket options for backend connections.
    public let options: TCPOptions
    private let cursor = Atomic<Int>(0)

    public init(name: String, servers: [SocketAddress], connectTimeout: Duration, maxAttempts: Int = 0,
                options: TCPOptions = .backend) {
        precondition(!servers.isEmpty, "backend group \(name) has no servers")
        self.name = name
        self.servers = servers
        self.connectTimeout = connectTimeout
        self.maxAttempts = maxAttempts > 0 ? min(maxAttempts, servers.count) : servers.count
        self.options = options
    }

    /// One failed attempt, for logs.
    public struct AttemptFailure: Sendable, CustomStringConvertible {
        public let server: SocketAddress
        public let error: String
        public var description: String { "\(server): \(error)" }
    }

    /// Every attempt failed.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public let group: String
        public let failures: [AttemptFailure]
        public var description: String {
            "no server of backend \(group) accepted the connection (" + failures.map(\.description).joined(separator: "; ") + ")"
        }
    }

    /// Connects to the next server in round-robin order, skipping servers that fail.
    public func connect(on loop: EventLoop, logger: Logger) async throws -> (TCPConnection, SocketAddress) {
        let start = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        var failures: [AttemptFailure] = []
        for attempt in 0..<maxAttempts {
            let server = servers[(start &+ attempt) % servers.count]
            do {
                let connection = try await TCPConnection.connect(to: server, on: loop, timeout: connectTimeout,
                                                                 options: options)
                return (connection, server)
            } catch let error as IOError {
                failures.append(AttemptFailure(server: server, error: error.description))
                logger.debug("backend connect failed", ["backend": name, "server": server, "error": String(describing: error)])
            }
        }
        throw Unavailable(group: name, failures: failures)
    }
}
