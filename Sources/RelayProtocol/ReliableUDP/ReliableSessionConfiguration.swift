/// The knobs of a `ReliableSession` that are this side's own business (the shared ones come in WELCOME's
/// `ReliableSessionParameters`). All times are nanoseconds.
public struct ReliableSessionConfiguration: Sendable, Equatable {
    /// Most DATA packets sent and not yet acknowledged or declared lost: the send window.
    public var maxInFlight: Int
    /// Most messages held for sending (queued or unacknowledged) before `canSend` turns false.
    public var maxQueuedMessages: Int
    /// Most bytes of messages held for sending before `canSend` turns false; one message may cross it.
    public var maxQueuedBytes: Int
    /// The receive side's window and byte budget.
    public var reassembly: Reassembler.Configuration
    /// RTT estimation and retransmission timeout.
    public var rtt: RTTEstimator.Configuration
    /// Longest an acknowledgement is held back, at most `ReliableSession.maxAckDelay` (25 ms).
    public var ackDelay: UInt64
    /// Acknowledge at once after this many ack-eliciting packets.
    public var ackEvery: Int
    /// Send a PING after this long without hearing from the peer or pinging it; nil: never. At most a third of
    /// the idle timeout is used, so one lost PING does not end the session.
    public var keepAliveInterval: UInt64?
    /// Packet numbers the replay window covers.
    public var replayWindow: Int
    /// RTT and delivery-latency samples kept until taken; later ones are counted and dropped.
    public var maxSamples: Int
    /// CLOSE is sent again in answer to at most this many packets arriving after it.
    public var maxCloseRepeats: Int
    /// Whether DATA packets go out twice (`off` by default).
    public var redundancy: ReliableRedundancy

    /// 128 packets in flight, 512 messages or 1 MiB held, the default reassembly and RTT knobs, acknowledgements
    /// after two packets or 25 ms, keep-alive every 10 s, a 2,048-packet replay window, 1,024 samples, no
    /// redundancy.
    public init(maxInFlight: Int = 128, maxQueuedMessages: Int = 512, maxQueuedBytes: Int = 1 << 20,
                reassembly: Reassembler.Configuration = .init(), rtt: RTTEstimator.Configuration = .init(),
                ackDelay: UInt64 = ReliableSession.maxAckDelay, ackEvery: Int = 2,
                keepAliveInterval: UInt64? = 10_000_000_000, replayWindow: Int = ReplayWindow.defaultSize,
                maxSamples: Int = 1024, maxCloseRepeats: Int = 3, redundancy: ReliableRedundancy = .off) {
        self.maxInFlight = max(1, maxInFlight)
        self.maxQueuedMessages = max(1, maxQueuedMessages)
        self.maxQueuedBytes = max(1, maxQueuedBytes)
        self.reassembly = reassembly
        self.rtt = rtt
        self.ackDelay = min(ackDelay, ReliableSession.maxAckDelay)
        self.ackEvery = max(1, ackEvery)
        self.keepAliveInterval = keepAliveInterval.map { max($0, 1_000_000) }
        self.replayWindow = replayWindow
        self.maxSamples = max(0, maxSamples)
        self.maxCloseRepeats = max(0, maxCloseRepeats)
        self.redundancy = redundancy
    }
}
