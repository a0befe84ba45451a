/// A link's state as the client's LinkMonitor sees it, reported in every HEARTBEAT (byte 1 of its body).
public enum MultipathLinkHealth: UInt8, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// No heartbeat on it has been answered yet.
    case probing = 0
    /// Answered lately.
    case up = 1
    /// Failed: `max_consecutive_fail` heartbeats in a row went unanswered. Heartbeats continue, and the first
    /// answer brings it back up.
    case down = 2

    /// "probing", "up" or "down".
    public var description: String {
        switch self {
        case .probing: "probing"
        case .up: "up"
        case .down: "down"
        }
    }
}
