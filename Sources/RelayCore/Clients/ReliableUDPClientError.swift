import RelayIO
import RelayProtocol

/// Why a `ReliableUDPClient` could not connect, or lost its session; the description is what `relayd connect`
/// prints.
public enum ReliableUDPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The server refused the handshake.
    case refused(ReliableRefusalReason, clientID: String, retryAfterSeconds: UInt16)
    /// The server speaks only versions up to `highestVersion`.
    case unsupportedVersion(highestVersion: UInt8)
    /// Nothing came back from the server in time.
    case noAnswer(server: String, after: Duration)
    /// The server offers sessions without encryption and the client requires it.
    case encryptionRequired(server: String)
    /// The session ended before the call could complete: CLOSE from the server (`byServer`) or from this side
    /// (idle or retransmission timeout, protocol violation).
    case closed(ReliableCloseReason, byServer: Bool)
    /// `finish` ran out of time with messages still unacknowledged.
    case unacknowledged(Int)
    /// A message over 65,507 bytes.
    case messageTooLarge(Int)
    /// The client id breaks the rules (1–64 of `A–Z a–z 0–9 . _ @ -`) or the key is not 32 bytes.
    case invalidCredentials(String)

    public var description: String {
        switch self {
        case let .refused(reason, clientID, retryAfter):
            switch reason {
            case .badAuth: return "refused: bad key for client '\(clientID)'"
            case .serverFull: return "refused: server full"
            case .rateLimited:
                return "refused: rate limited" + (retryAfter > 0 ? " (retry after \(retryAfter) s)" : "")
            case .unsupportedVersion: return "refused: unsupported protocol version"
            case .expiredCookie: return "refused: the handshake took too long (expired cookie); try again"
            }
        case let .unsupportedVersion(highest):
            return "refused: the server speaks protocol versions up to \(highest), not \(ReliableWire.version)"
        case let .noAnswer(server, after):
            return "no answer from \(server) after \(Self.seconds(after)) s"
        case let .encryptionRequired(server):
            return "\(server) offers sessions without encryption, and encryption is required"
        case let .closed(reason, byServer):
            return "session closed by \(byServer ? "the server" : "this client"): \(reason.label)"
        case let .unacknowledged(count):
            return "\(count) messages were not acknowledged in time"
        case let .messageTooLarge(size):
            return "a message of \(size) bytes is over the 65507-byte limit"
        case let .invalidCredentials(reason):
            return reason
        }
    }

    private static func seconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if attoseconds == 0 { return String(seconds) }
        return String(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
