import RelayProtocol
import Synchronization

/// Counters of a reliable-UDP listener, bumped on the hot path with relaxed atomics, and its two histograms.
///
/// A session's own counters (`ReliableSessionStats`) are added here after each event that changed them, only the
/// difference, so the listener's totals move as traffic does and never go back when a session ends.
public final class ReliableUDPCounters: Sendable {
    /// Session packets relayd sent to clients, and their bytes (handshake packets are not counted here).
    public let packetsOut = Atomic<Int>(0)
    public let bytesOut = Atomic<Int>(0)
    /// Session packets accepted from clients (authenticated, not replayed), and their bytes.
    public let packetsIn = Atomic<Int>(0)
    public let bytesIn = Atomic<Int>(0)
    /// Messages relayed from clients to servers and from servers to clients, and their bytes.
    public let messagesUp = Atomic<Int>(0)
    public let messagesDown = Atomic<Int>(0)
    public let messageBytesUp = Atomic<Int>(0)
    public let messageBytesDown = Atomic<Int>(0)
    /// Fragments sent again after being declared lost.
    public let retransmitted = Atomic<Int>(0)
    /// DATA packets sent as the second copy of another (`redundancy`).
    public let redundantCopies = Atomic<Int>(0)
    /// Fragments that arrived again after they were already held or delivered.
    public let duplicates = Atomic<Int>(0)
    /// DATA packets that arrived after a gap.
    public let outOfOrder = Atomic<Int>(0)
    /// Retransmission timeouts that fired.
    public let timeouts = Atomic<Int>(0)
    /// Sessions that followed their client to a new address (NAT rebinding).
    public let rebindings = Atomic<Int>(0)

    /// Dropped datagrams, by reason; see `dropCounts` for the names.
    public let droppedReplayed = Atomic<Int>(0)
    public let droppedBadTag = Atomic<Int>(0)
    public let droppedMalformed = Atomic<Int>(0)
    public let droppedUnknownSession = Atomic<Int>(0)
    public let droppedOversized = Atomic<Int>(0)
    public let droppedGarbage = Atomic<Int>(0)
    public let droppedRateLimited = Atomic<Int>(0)
    public let droppedSendFailed = Atomic<Int>(0)
    public let droppedBackendSendFailed = Atomic<Int>(0)
    public let droppedBackendTooLarge = Atomic<Int>(0)

    /// Sessions opened.
    public let sessionsOpened = Atomic<Int>(0)
    /// Sessions ended, by reason and by who closed: index `reason.index * 2 + (byClient ? 1 : 0)`.
    private let closedCounts: [Counter]
    /// Handshake packets by what became of them, in `ReliableHandshakeResult.allCases` order.
    private let handshakeCounts: [Counter]

    /// Round-trip times measured by the sessions, in seconds.
    public let rtt = Histogram(buckets: Histogram.latencyBuckets)
    /// From a message handed to a session (a server's datagram) to the client's acknowledgement of all of it.
    public let deliveryLatency = Histogram(buckets: Histogram.latencyBuckets)

    public init() {
        closedCounts = (0..<(Self.closeReasons.count * 2)).map { _ in Counter() }
        handshakeCounts = ReliableHandshakeResult.allCases.map { _ in Counter() }
    }

    /// The close reasons counted, in label order.
    public static let closeReasons = ReliableCloseReason.allCases

    /// Counts a handshake packet's result.
    func count(_ result: ReliableHandshakeResult) {
        handshakeCounts[ReliableHandshakeResult.allCases.firstIndex(of: result)!].increment()
    }

    /// Handshake packets that ended as `result`.
    public func handshakes(_ result: ReliableHandshakeResult) -> Int {
        Int(handshakeCounts[ReliableHandshakeResult.allCases.firstIndex(of: result)!].value)
    }

    /// Counts a session that ended.
    func countClosed(_ reason: ReliableCloseReason, byClient: Bool) {
        closedCounts[Self.closedIndex(reason, byClient: byClient)].increment()
    }

    /// Sessions that ended for `reason`, closed by the client or by relayd.
    public func sessionsClosed(_ reason: ReliableCloseReason, byClient: Bool) -> Int {
        Int(closedCounts[Self.closedIndex(reason, byClient: byClient)].value)
    }

    private static func closedIndex(_ reason: ReliableCloseReason, byClient: Bool) -> Int {
        closeReasons.firstIndex(of: reason)! * 2 + (byClient ? 1 : 0)
    }

    /// Adds what a session's counters did since `reported`, and moves `reported` up to `stats`.
    func add(_ stats: ReliableSessionStats, since reported: inout ReliableSessionStats) {
        func delta(_ now: UInt64, _ then: UInt64) -> Int { Int(truncatingIfNeeded: now &- then) }
        func bump(_ counter: borrowing Atomic<Int>, _ now: UInt64, _ then: UInt64) {
            if now != then { counter.add(delta(now, then), ordering: .relaxed) }
        }
        bump(packetsOut, stats.packetsSent, reported.packetsSent)
        bump(bytesOut, stats.bytesSent, reported.bytesSent)
        bump(packetsIn, stats.packetsReceived, reported.packetsReceived)
        bump(bytesIn, stats.bytesReceived, reported.bytesReceived)
        bump(retransmitted, stats.retransmitted, reported.retransmitted)
        bump(redundantCopies, stats.redundantCopies, reported.redundantCopies)
        bump(duplicates, stats.duplicates, reported.duplicates)
        bump(outOfOrder, stats.outOfOrder, reported.outOfOrder)
        bump(timeouts, stats.timeouts, reported.timeouts)
        bump(rebindings, stats.rebindings, reported.rebindings)
        bump(droppedReplayed, stats.replayed, reported.replayed)
        bump(droppedBadTag, stats.badTag, reported.badTag)
        bump(droppedMalformed, stats.malformed, reported.malformed)
        reported = stats
    }

    /// Dropped datagrams by reason, for the metrics and the admin API.
    public var dropCounts: [(String, Int)] {
        [("replayed", droppedReplayed.load(ordering: .relaxed)),
         ("bad_tag", droppedBadTag.load(ordering: .relaxed)),
         ("malformed", droppedMalformed.load(ordering: .relaxed)),
         ("unknown_session", droppedUnknownSession.load(ordering: .relaxed)),
         ("oversized", droppedOversized.load(ordering: .relaxed)),
         ("garbage", droppedGarbage.load(ordering: .relaxed)),
         ("rate_limited", droppedRateLimited.load(ordering: .relaxed)),
         ("send_failed", droppedSendFailed.load(ordering: .relaxed)),
         ("backend_send_failed", droppedBackendSendFailed.load(ordering: .relaxed)),
         ("backend_too_large", droppedBackendTooLarge.load(ordering: .relaxed))]
    }
}

extension ReliableCloseReason {
    /// The reason's name in metrics labels and the access log (`end=`).
    public var label: String {
        switch self {
        case .normal: "closed"
        case .idleTimeout: "idle"
        case .protocolViolation: "protocol_violation"
        case .shuttingDown: "shutdown"
        case .packetNumbersExhausted: "packet_numbers_exhausted"
        case .internalError: "error"
        case .retransmissionTimeout: "retransmission_timeout"
        case .unknown: "unknown"
        }
    }
}
