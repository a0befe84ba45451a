// Stand-ins for two types of branch `reliable-protocol` (ReliableUDP/ReplayWindow.swift and
// ReliableUDP/ReliableClientID.swift), with the same names and the subset of their API that Multipath/ uses, until
// that branch is merged into main. Delete this file when it is: the real types then take over unchanged.

/// Stand-in for `ReplayWindow` (RFC 6479 sliding bitmap over 32-bit packet numbers; zero is never valid).
struct ReplayWindow: Sendable, Equatable {
    /// What `check` says about a packet number.
    enum Verdict: Sendable, Equatable {
        case fresh, seen, tooOld, invalid
    }

    /// The default window.
    static let defaultSize = 2048

    /// How many packet numbers below `largest` the window tells apart; a multiple of 64.
    let size: Int
    /// The packet numbers inserted; those that fell out of the window are pruned now and then.
    private var recent: Set<UInt32> = []
    /// The largest packet number inserted; zero before any.
    private(set) var largest: UInt32 = 0

    /// An empty window covering `size` packets, rounded up to a multiple of 64.
    init(size: Int = ReplayWindow.defaultSize) {
        self.size = max(1, (size + 63) / 64) * 64
    }

    /// Whether `packetNumber` would be accepted, without changing anything.
    func check(_ packetNumber: UInt32) -> Verdict {
        guard packetNumber != 0 else { return .invalid }
        if packetNumber > largest { return .fresh }
        if UInt64(largest - packetNumber) >= UInt64(size) { return .tooOld }
        return recent.contains(packetNumber) ? .seen : .fresh
    }

    /// Records `packetNumber` as seen; returns what `check` said before.
    @discardableResult
    mutating func insert(_ packetNumber: UInt32) -> Verdict {
        let verdict = check(packetNumber)
        guard verdict == .fresh else { return verdict }
        recent.insert(packetNumber)
        if packetNumber > largest { largest = packetNumber }
        if recent.count > 2 * size {
            let floor = UInt64(largest) >= UInt64(size) ? largest - UInt32(size) : 0
            recent = recent.filter { $0 > floor }
        }
        return .fresh
    }
}

/// Stand-in for `ReliableClientID`: the keys file's rules for a client id, 1 to 64 bytes of `A–Z a–z 0–9 . _ @ -`.
enum ReliableClientID {
    /// True when `id` follows the rules.
    static func isValid(_ id: String) -> Bool {
        isValid(Array(id.utf8))
    }

    /// True when the bytes of an id follow the rules.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty, bytes.count <= 64 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "@"),
                UInt8(ascii: "-"):
                true
            default:
                false
            }
        }
    }
}
