/// Why a received datagram was dropped instead of delivered. Each case is a counter at the receiver; none is
/// ever answered.
public enum MultipathDrop: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Not a well-formed frame.
    case malformed(MultipathFrameError)
    /// A client id with no key here (at the server), or not the one this channel serves (at the client).
    case unknownClient
    /// A frame travelling the way this end sends, not the way it receives.
    case wrongDirection
    /// The tag does not match: forged, corrupted, or under another key.
    case badTag
    /// A sequence already accepted in this session: a redundant copy or a replay.
    case duplicate
    /// A sequence too far behind the newest accepted to tell.
    case tooOld
    /// A session older than the newest accepted.
    case staleSession

    /// A short name for logs and metric labels.
    public var description: String {
        switch self {
        case .malformed(let error): "malformed (\(error))"
        case .unknownClient: "unknown client"
        case .wrongDirection: "wrong direction"
        case .badTag: "bad tag"
        case .duplicate: "duplicate"
        case .tooOld: "too old"
        case .staleSession: "stale session"
        }
    }
}
