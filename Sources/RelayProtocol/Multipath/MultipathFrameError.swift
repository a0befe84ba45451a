/// Why bytes are not a well-formed multipath frame.
///
/// The decoder returns these instead of trapping or reading past the end; the receiver drops the datagram and
/// counts it. Nothing is ever answered: a reply to a malformed datagram would help an attacker probe or reflect.
public enum MultipathFrameError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Shorter than the frame needs: `needed` bytes at least, `got` present.
    case truncated(needed: Int, got: Int)
    /// Longer than allowed: a fixed-size body with bytes left over, or a datagram over 65,507 bytes.
    case oversized(limit: Int, got: Int)
    /// Does not start with "RLYM".
    case badMagic
    /// A version this code does not speak; carries the version byte.
    case unsupportedVersion(UInt8)
    /// A type byte that is not DATA, HEARTBEAT or HEARTBEAT_ACK.
    case unknownType(UInt8)
    /// A field out of its range; names the field.
    case invalidField(String)

    /// What was wrong, in a few words.
    public var description: String {
        switch self {
        case .truncated(let needed, let got): "frame truncated: \(got) of at least \(needed) bytes"
        case .oversized(let limit, let got): "frame too long: \(got) bytes, at most \(limit)"
        case .badMagic: "not a multipath frame (bad magic)"
        case .unsupportedVersion(let version): "unsupported version \(version)"
        case .unknownType(let type): "unknown frame type \(type)"
        case .invalidField(let field): "invalid \(field)"
        }
    }
}
