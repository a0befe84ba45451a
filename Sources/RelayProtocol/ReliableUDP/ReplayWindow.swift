/// The packet numbers seen lately, as a sliding bitmap: which packets are new, which are replays, which too old
/// to tell (RFC 6479).
///
/// The bitmap is a ring of 64-bit blocks, one block more than the window needs, so sliding forward clears
/// whole blocks and never a bit still inside the window (RFC 6479 §2). Packet number zero is never valid.
///
/// The receiver checks a packet number before it spends cryptography on the packet and inserts it only after
/// the tag verified (RFC 6479 §1: an attacker must not be able to move the window with forged packets). The
/// same bitmap answers the acknowledgement's bitfield, since what was accepted is what is acknowledged.
public struct ReplayWindow: Sendable, Equatable {
    /// What `check` says about a packet number.
    public enum Verdict: Sendable, Equatable {
        /// Not seen, and inside or ahead of the window.
        case fresh
        /// Seen already: a duplicate or a replay.
        case seen
        /// So far behind the largest that the window no longer says: treated as a replay.
        case tooOld
        /// Zero, which no packet carries.
        case invalid
    }

    /// The default window: 2,048 packets behind the largest, far more than a send window keeps in flight.
    public static let defaultSize = 2048

    /// How many packet numbers below `largest` the window still tells apart; a multiple of 64.
    public let size: Int
    /// The ring; `size / 64 + 1` blocks.
    private var blocks: [UInt64]
    /// The largest packet number inserted; zero before any.
    public private(set) var largest: UInt32 = 0

    /// An empty window covering `size` packets (rounded up to a multiple of 64, at least 64).
    public init(size: Int = ReplayWindow.defaultSize) {
        let blocksInWindow = max(1, (size + 63) / 64)
        self.size = blocksInWindow * 64
        blocks = Array(repeating: 0, count: blocksInWindow + 1)
    }

    /// Whether `packetNumber` would be accepted, without changing anything.
    public func check(_ packetNumber: UInt32) -> Verdict {
        guard packetNumber != 0 else { return .invalid }
        if packetNumber > largest { return .fresh }
        if UInt64(largest - packetNumber) >= UInt64(size) { return .tooOld }
        return bit(packetNumber) ? .seen : .fresh
    }

    /// Records `packetNumber` as seen; returns what `check` said before. Only a `.fresh` number changes anything.
    @discardableResult
    public mutating func insert(_ packetNumber: UInt32) -> Verdict {
        let verdict = check(packetNumber)
        guard verdict == .fresh else { return verdict }
        if packetNumber > largest {
            let oldBlock = UInt64(largest) >> 6
            let newBlock = UInt64(packetNumber) >> 6
            // Clear the blocks the window slides over; past a whole ring's worth every block is stale.
            let toClear = min(newBlock - oldBlock, UInt64(blocks.count))
            var block = newBlock
            for _ in 0..<toClear {
                blocks[Int(block % UInt64(blocks.count))] = 0
                block -= 1
            }
            largest = packetNumber
        }
        let index = Int((UInt64(packetNumber) >> 6) % UInt64(blocks.count))
        blocks[index] |= 1 << UInt64(packetNumber & 63)
        return .fresh
    }

    /// True when `packetNumber` was inserted and is still inside the window.
    public func contains(_ packetNumber: UInt32) -> Bool {
        check(packetNumber) == .seen
    }

    /// The acknowledgement bitfield below `largest`: bit i set when packet `largest − 1 − i` was inserted.
    public var ackBitfield: UInt32 {
        var field: UInt32 = 0
        for i in 0..<32 {
            let distance = UInt32(i + 1)
            guard largest > distance else { break }
            if bit(largest - distance) { field |= 1 << UInt32(i) }
        }
        return field
    }

    private func bit(_ packetNumber: UInt32) -> Bool {
        let index = Int((UInt64(packetNumber) >> 6) % UInt64(blocks.count))
        return blocks[index] & (1 << UInt64(packetNumber & 63)) != 0
    }
}
