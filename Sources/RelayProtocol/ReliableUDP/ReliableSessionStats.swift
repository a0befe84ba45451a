/// A session's counters, for metrics: what went out, what came in, what was lost, repeated or refused.
public struct ReliableSessionStats: Sendable, Equatable {
    /// Datagrams sent, of every type.
    public var packetsSent: UInt64 = 0
    /// Their bytes.
    public var bytesSent: UInt64 = 0
    /// Datagrams accepted: authenticated, not replayed.
    public var packetsReceived: UInt64 = 0
    /// Their bytes.
    public var bytesReceived: UInt64 = 0
    /// Messages the application handed over.
    public var messagesSent: UInt64 = 0
    /// Of those, messages whose every fragment the peer acknowledged.
    public var messagesAcknowledged: UInt64 = 0
    /// Messages complete and in order for the application.
    public var messagesReceived: UInt64 = 0
    /// DATA packets sent, first transmissions and retransmissions.
    public var dataPacketsSent: UInt64 = 0
    /// Fragments sent again after being declared lost.
    public var retransmitted: UInt64 = 0
    /// DATA packets that were the second copy of another (redundancy).
    public var redundantCopies: UInt64 = 0
    /// Packets declared lost because later ones were acknowledged (three packets on, or 9/8 RTT later).
    public var fastRetransmits: UInt64 = 0
    /// Retransmission timeouts that fired.
    public var timeouts: UInt64 = 0
    /// ACK packets sent (acknowledgements that rode on nothing else).
    public var acksSent: UInt64 = 0
    /// PINGs sent: keep-alives and probes of a closed receive window.
    public var pingsSent: UInt64 = 0
    /// Fragments received again after they were already held or delivered (a retransmission that crossed the
    /// acknowledgement).
    public var duplicates: UInt64 = 0
    /// DATA packets that arrived for a message after a gap.
    public var outOfOrder: UInt64 = 0
    /// Datagrams whose packet number was seen already or is older than the replay window: dropped.
    public var replayed: UInt64 = 0
    /// Datagrams whose tag did not verify: dropped.
    public var badTag: UInt64 = 0
    /// Datagrams that are not session packets of this session's layout: dropped.
    public var malformed: UInt64 = 0
    /// Fragments dropped for want of room in the receive budget, unacknowledged.
    public var overBudget: UInt64 = 0
    /// Fragments at or beyond the receive limit the peer was told: dropped.
    public var windowViolations: UInt64 = 0
    /// Times the peer's address changed under an authenticated packet (NAT rebinding).
    public var rebindings: UInt64 = 0
    /// Samples dropped because nobody took the earlier ones.
    public var samplesDropped: UInt64 = 0
    /// Interarrival jitter as RFC 3550 §6.4.1 estimates it from the peer's timestamps, in nanoseconds.
    public var jitter: UInt64 = 0

    /// All zero.
    public init() {}
}
