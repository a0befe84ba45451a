/// Why a datagram on the cluster port is not a heartbeat this node accepts. Each case is a counted drop, never a
/// crash: the port is reachable by anyone who can send UDP to it.
public enum ClusterHeartbeatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Shorter than the smallest heartbeat (header and tag).
    case tooShort
    /// Larger than `ClusterHeartbeat.maximumSize`.
    case tooLarge
    /// Does not start with the heartbeat magic: not ours.
    case badMagic
    /// A version this build does not speak.
    case unsupportedVersion(UInt8)
    /// The HMAC tag does not match: another key, or altered on the way.
    case badTag
    /// The authenticated bytes do not parse (ends early, a bad length, a non-finite number, trailing bytes).
    case malformed(String)

    public var description: String {
        switch self {
        case .tooShort: "shorter than a heartbeat"
        case .tooLarge: "larger than \(ClusterHeartbeat.maximumSize) bytes"
        case .badMagic: "not a relayd cluster heartbeat"
        case let .unsupportedVersion(version): "heartbeat version \(version) is not supported"
        case .badTag: "authentication failed (another cluster key, or altered in transit)"
        case let .malformed(reason): "malformed heartbeat: \(reason)"
        }
    }

    /// A short label for metrics and throttled logs.
    public var label: String {
        switch self {
        case .tooShort, .tooLarge, .malformed: "malformed"
        case .badMagic, .unsupportedVersion: "foreign"
        case .badTag: "unauthenticated"
        }
    }
}
