/// Whether a session sends each DATA packet twice: lost packets then cost no retransmission round trip (both copies
/// must be lost), at the price of twice the bandwidth while it is on. The copies are two packets with their own
/// numbers, acknowledged and measured each on its own; the receiver keeps the first and counts the other as a
/// duplicate, so a peer without this setting takes them unchanged.
public enum ReliableRedundancy: Sendable, Equatable {
    /// One copy of each packet (the default): a lost one is repaired by retransmission.
    case off
    /// Two copies while at least `lossThreshold` parts per million of the last `ReliableLossWindow.size` DATA
    /// packets were lost (and at least one was), one otherwise.
    case adaptive(lossThreshold: Int)
    /// Two copies of every packet.
    case always

    /// `adaptive` at 0.5 %: with 256 packets measured, two losses among them.
    public static let defaultAdaptive = ReliableRedundancy.adaptive(lossThreshold: 5_000)

    /// The config's word for it.
    public var name: String {
        switch self {
        case .off: "off"
        case .adaptive: "adaptive"
        case .always: "always"
        }
    }
}

/// The fates of the last `size` DATA packets a session sent, acknowledged or lost: the loss that adaptive
/// redundancy follows. Pure, a ring of bits.
public struct ReliableLossWindow: Sendable, Equatable {
    /// Packets remembered.
    public static let size = 256

    private var bits: [UInt64] = Array(repeating: 0, count: ReliableLossWindow.size / 64)
    private var next = 0
    /// Fates recorded, at most `size`.
    public private(set) var recorded = 0
    /// Of those, losses.
    public private(set) var lost = 0

    public init() {}

    /// Records one packet's fate, forgetting the oldest once `size` are held.
    public mutating func record(lost isLost: Bool) {
        let word = next / 64
        let bit = UInt64(1) << UInt64(next % 64)
        if recorded == Self.size, bits[word] & bit != 0 { lost -= 1 }
        if isLost { bits[word] |= bit; lost += 1 } else { bits[word] &= ~bit }
        recorded = min(recorded + 1, Self.size)
        next = (next + 1) % Self.size
    }

    /// Whether the share lost reaches `threshold` parts per million, with at least one loss.
    public func reaches(_ threshold: Int) -> Bool {
        lost > 0 && lost * 1_000_000 >= threshold * recorded
    }
}
