/// Why the LinkMonitor moved traffic to another link.
public enum LinkSwitchReason: Sendable, Equatable, CustomStringConvertible {
    /// The active link went down (`max_consecutive_fail` heartbeats unanswered), or was down while another link
    /// came up: traffic moves at once, whatever the throughput guard says.
    case failover
    /// Another link's score beat the active link's by `gain` ≥ `switch_threshold`, and the active link carried
    /// less than `throughput_threshold_kbps`.
    case betterScore(gain: Double)

    /// For the log line.
    public var description: String {
        switch self {
        case .failover: "failover"
        case .betterScore(let gain): "score better by \(gain.scoreText)"
        }
    }
}
