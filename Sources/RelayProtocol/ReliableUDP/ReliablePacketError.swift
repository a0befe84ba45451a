/// Why bytes were not a reliable-UDP packet, or not a valid one.
///
/// A decoder of network bytes returns these instead of trapping or reading past the end. The server answers
/// none of them except `unsupportedVersion` on a HELLO (with REFUSED); everything else is dropped and counted.
public enum ReliablePacketError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Shorter than the smallest packet of its type.
    case truncated(ReliablePacketType?, needed: Int, got: Int)
    /// Longer than its type allows (a fixed-size packet with bytes left over, or over 65,507 bytes).
    case oversized(ReliablePacketType?, limit: Int, got: Int)
    /// Does not start with "RLYU".
    case badMagic
    /// A version this code does not speak; carries the version byte.
    case unsupportedVersion(UInt8)
    /// A type byte that is not one of ours.
    case unknownType(UInt8)
    /// A field out of its range; says which.
    case invalidField(ReliablePacketType, String)

    /// What was wrong, in a few words.
    public var description: String {
        switch self {
        case .truncated(let type, let needed, let got):
            return "\(type.map { "\($0)" } ?? "packet") truncated: \(got) of at least \(needed) bytes"
        case .oversized(let type, let limit, let got):
            return "\(type.map { "\($0)" } ?? "packet") too long: \(got) bytes, at most \(limit)"
        case .badMagic:
            return "not a reliable-UDP packet (bad magic)"
        case .unsupportedVersion(let version):
            return "unsupported version \(version)"
        case .unknownType(let type):
            return "unknown packet type \(type)"
        case .invalidField(let type, let field):
            return "\(type): invalid \(field)"
        }
    }
}
