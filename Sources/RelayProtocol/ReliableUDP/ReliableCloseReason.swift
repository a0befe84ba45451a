/// Why a session ended: CLOSE's reason byte, and what `ReliableSession` reports when it closes.
public enum ReliableCloseReason: UInt8, Sendable, CaseIterable {
    /// The application closed the session.
    case normal = 0
    /// Nothing authenticated arrived for the idle timeout.
    case idleTimeout = 1
    /// The peer broke the protocol (a fragment that contradicts its message, data beyond the receive limit).
    case protocolViolation = 2
    /// The relay is shutting down or draining.
    case shuttingDown = 3
    /// The packet numbers ran out (2³² − 1 packets): a nonce must never repeat, so the session must end.
    case packetNumbersExhausted = 4
    /// Something relayd could not handle (its backend socket failed).
    case internalError = 5
    /// Unacknowledged data went unanswered through every retransmission up to the idle timeout.
    case retransmissionTimeout = 6
    /// A reason byte this version does not know.
    case unknown = 255
}
