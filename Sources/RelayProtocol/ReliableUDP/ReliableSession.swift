/// One reliable-UDP session after its handshake: ordered, acknowledged, authenticated (and by default encrypted)
/// messages over datagrams, as a pure state machine.
///
/// Nothing here touches a socket or a clock. The caller feeds it events, each with the monotonic time `now` in
/// nanoseconds: `handleDatagram` for every datagram the listener routed to the session, `send` for every message
/// of the application, `handleTimeout` when `nextTimeout` has passed. After each event it drains what the session
/// wants done: `pollDatagram` until nil (datagrams to send), `takeMessage` until nil (messages in order, as fast
/// as the application can take them), `pollEvent` until nil (closed, peer moved). So the same code runs under
/// the listener's actor and under a test's simulated network.
///
/// **Reliability** (docs/reliable-udp.md, "Reliability"). Every packet has a packet number of its own; a lost
/// fragment goes out again under a new one, as QUIC does (RFC 9002 §2), so acknowledgements are never
/// ambiguous. Every header acknowledges: the largest packet number received and a bitfield of the 32 before it
/// (seed 000's scheme). A packet is lost when one three numbers later is acknowledged or it is 9/8 RTT older
/// than an acknowledged one (RFC 9002 §6.1), and then its fragment is sent again at once (fast retransmit);
/// when acknowledgements stop, the retransmission timeout (`RTTEstimator`, plus the peer's largest ack delay as
/// RFC 9002 §6.2.1 adds) declares every packet older than it lost and backs off.
///
/// **Flow.** At most `maxInFlight` DATA packets are unacknowledged; the peer's receive limit caps the message
/// sequence; `canSend` turns false when `maxQueuedMessages` or `maxQueuedBytes` are held, and the caller must
/// then stop reading its source. A sender held up only by the peer's limit probes it with PING after a
/// timeout, backing off, so a lost window update cannot stall the session.
///
/// **Acknowledgements** are held back up to `ackDelay` (25 ms) or until `ackEvery` ack-eliciting packets came
/// in, and sent at once for a packet that arrived out of order, a duplicate, a PING, or a receive limit that
/// moved by a quarter window (RFC 9000 §13.2.1). They ride on DATA when there is DATA to send.
///
/// **Security.** A datagram's packet number is checked against the replay window before its tag is verified,
/// and recorded only after (RFC 6479). An authenticated packet from a new address moves the session there
/// (NAT rebinding, as WireGuard roams); an unauthenticated one changes nothing.
public struct ReliableSession: Sendable {
    /// The longest any receiver holds an acknowledgement back: part of the protocol, since senders add it to
    /// their retransmission timeout.
    public static let maxAckDelay: UInt64 = 25_000_000

    /// Where the session is in its life.
    public enum State: Sendable, Equatable {
        /// Messages flow both ways.
        case open
        /// `finish` was called: no new messages; CLOSE goes out with `reason` once everything sent is
        /// acknowledged, or at `deadline`.
        case finishing(ReliableCloseReason, deadline: UInt64)
        /// CLOSE was sent; late packets are answered with CLOSE until `until`, then the session is closed.
        case closing(ReliableCloseReason, until: UInt64)
        /// Over; the caller drops the session.
        case closed(ReliableCloseReason, byPeer: Bool)
    }

    /// What the caller learns besides datagrams and messages.
    public enum Event: Sendable, Equatable {
        /// The session ended (or began closing) for the application: no more messages either way.
        case closed(ReliableCloseReason, byPeer: Bool)
        /// An authenticated packet came from a new address; replies go there now.
        case peerAddressChanged(from: ReliablePeerAddress, to: ReliablePeerAddress)
    }

    /// What became of a datagram given to `handleDatagram`.
    public enum DatagramVerdict: Sendable, Equatable {
        /// Authenticated and taken in.
        case accepted
        /// Its packet number was seen already or is too old: a duplicate or a replay, dropped.
        case replayed
        /// Its tag did not verify: forged, corrupted, or for other keys. Dropped.
        case badTag
        /// Not a session packet of valid layout. Dropped.
        case malformed
        /// For another session. Dropped.
        case wrongSession
        /// The session is closed. Dropped.
        case ignored
    }

    /// Why `send` did not take a message.
    public enum SendError: Error, Sendable, Equatable {
        /// The send queue is full: stop reading the source until `canSend` is true again.
        case wouldBlock
        /// Over 65,507 bytes.
        case tooLarge
        /// The session is finishing or closed.
        case closed
    }

    /// A datagram to send.
    public struct Datagram: Sendable, Equatable {
        /// The bytes, sealed.
        public var bytes: [UInt8]
        /// Where to.
        public var address: ReliablePeerAddress
    }

    /// One message held for sending: queued, in flight or partly acknowledged.
    struct OutgoingMessage: Sendable {
        let bytes: [UInt8]
        let fragmentCount: UInt16
        var acknowledged: [Bool]
        var acknowledgedCount = 0
        /// When the application handed it over: the start of its delivery-latency sample.
        let queuedAt: UInt64
    }

    /// A fragment of a message.
    struct FragmentID: Sendable, Hashable {
        let sequence: UInt32
        let index: UInt16
    }

    /// An ack-eliciting packet sent and not yet acknowledged or given up on.
    struct SentPacket: Sendable {
        let packetNumber: UInt32
        let sentAt: UInt64
        /// The fragment it carried; nil for a PING.
        let fragment: FragmentID?
    }

    // MARK: Identity and keys

    /// The session id every header carries.
    public let sessionID: UInt64
    /// This side's role.
    public let role: ReliableRole
    /// The client's id, for logs and metrics.
    public let clientID: String
    /// What WELCOME said.
    public let parameters: ReliableSessionParameters
    /// This side's knobs.
    public let configuration: ReliableSessionConfiguration
    /// Seals what this side sends.
    let sendProtection: ReliablePacketProtection
    /// Opens what it receives.
    let receiveProtection: ReliablePacketProtection
    /// Where datagrams go; follows the peer when an authenticated packet comes from elsewhere.
    public internal(set) var peerAddress: ReliablePeerAddress
    /// Where the session is in its life.
    public internal(set) var state: State = .open
    /// Counters.
    public internal(set) var stats = ReliableSessionStats()
    /// RTT and retransmission timeout.
    public internal(set) var rtt: RTTEstimator
    /// Message bytes per DATA packet: `maxPacketSize` less header, fragment header and tag.
    let fragmentSize: Int

    // MARK: Sending

    /// The next packet number; packet numbers start at 1.
    var nextPacketNumber: UInt32 = 1
    /// The next message sequence; messages start at 1.
    var nextMessageSequence: UInt32 = 1
    /// Messages held, by sequence, until every fragment is acknowledged.
    var held: [UInt32: OutgoingMessage] = [:]
    /// Their bytes.
    var heldBytes = 0
    /// Messages with fragments not yet sent once, in order.
    var unsent = ReliableFIFO<UInt32>()
    /// The next fragment to send once of the first message in `unsent`.
    var unsentIndex: UInt16 = 0
    /// Fragments declared lost, to send again before anything new.
    var retransmitQueue = ReliableFIFO<FragmentID>()
    /// Ack-eliciting packets not yet acknowledged, in packet-number order.
    var inFlight: [SentPacket] = []
    /// How many of them carry DATA.
    var dataInFlight = 0
    /// The largest of our packet numbers the peer acknowledged.
    var largestAcknowledged: UInt32 = 0
    /// The peer accepts messages numbered below this.
    var peerReceiveLimit: UInt32 = 1 + ReliableWire.initialReceiveWindow
    /// When the last datagram went out.
    var lastSentAt: UInt64
    /// When the last PING went out.
    var lastPingAt: UInt64
    /// Probes of the peer's closed receive window in a row, for their back-off.
    var probeCount = 0
    /// A PING is due.
    var pingPending = false

    // MARK: Receiving

    /// Packet numbers accepted: replay protection and the acknowledgement bitfield.
    var replay: ReplayWindow
    /// Fragments to messages in order.
    var reassembler: Reassembler
    /// When the packet numbered `replay.largest` arrived, for the ack delay.
    var largestReceivedAt: UInt64 = 0
    /// When the last authenticated datagram arrived.
    var lastReceivedAt: UInt64
    /// Ack-eliciting packets received since the last acknowledgement went out.
    var ackElicitingPending = 0
    /// An acknowledgement must go out at the next poll.
    var ackImmediately = false
    /// An acknowledgement must go out by then.
    var ackDeadline: UInt64?
    /// The receive limit the peer was last told.
    var advertisedLimit: UInt32 = 1 + ReliableWire.initialReceiveWindow
    /// A PONG is due.
    var pongPending = false
    /// Packets accepted since the last packet carried an acknowledgement.
    var unreported = 0
    /// Acknowledgements made while datagrams were being handled, sent first at the next poll.
    var outbox = ReliableFIFO<Datagram>()
    /// The fates of the last DATA packets sent, for adaptive redundancy.
    var fates = ReliableLossWindow()
    /// The last packet's transit time by the peer's clock, for the jitter estimate.
    var lastTransit: Int64?
    /// At least one authenticated packet came from the peer.
    public internal(set) var isConfirmed = false

    // MARK: Closing

    /// A CLOSE is due.
    var closePending = false
    /// The reason it carries.
    var closeReason: ReliableCloseReason = .normal
    /// CLOSEs sent again in answer to late packets.
    var closeRepeats = 0

    // MARK: Output

    /// Events not yet polled.
    var events = ReliableFIFO<Event>()
    /// RTT samples not yet taken.
    var rttSamples = ReliableFIFO<UInt64>()
    /// Delivery-latency samples (handed over to fully acknowledged) not yet taken.
    var latencySamples = ReliableFIFO<UInt64>()

    /// A session from a finished handshake, at `now`.
    public init(setup: ReliableSessionSetup, configuration: ReliableSessionConfiguration = .init(),
                cryptography: any ReliableCryptography, now: UInt64) {
        sessionID = setup.sessionID
        role = setup.role
        clientID = setup.clientID
        parameters = setup.parameters
        self.configuration = configuration
        let sendKey = setup.role == .client ? setup.clientToServerKey : setup.serverToClientKey
        let receiveKey = setup.role == .client ? setup.serverToClientKey : setup.clientToServerKey
        sendProtection = ReliablePacketProtection(
            key: sendKey, encrypted: setup.parameters.encrypted, direction: setup.role.sendDirection,
            cryptography: cryptography)
        receiveProtection = ReliablePacketProtection(
            key: receiveKey, encrypted: setup.parameters.encrypted, direction: setup.role.receiveDirection,
            cryptography: cryptography)
        peerAddress = setup.peerAddress
        rtt = RTTEstimator(configuration: configuration.rtt)
        if let sample = setup.handshakeRTT { rtt.add(sample: sample) }
        let packetSize = min(max(setup.parameters.maxPacketSize, ReliableWire.minPacketSize),
                             ReliableWire.maxDatagramSize)
        fragmentSize = packetSize - ReliableWire.sessionOverhead - ReliableWire.fragmentHeaderSize
        replay = ReplayWindow(size: configuration.replayWindow)
        reassembler = Reassembler(configuration: configuration.reassembly)
        lastSentAt = now
        lastPingAt = now
        lastReceivedAt = now
    }

    // MARK: Queries

    /// True while `send` takes a message: the session is open and the send queue has room. When false, stop
    /// reading the source of messages; it turns true again as the peer acknowledges.
    public var canSend: Bool {
        state == .open && held.count < configuration.maxQueuedMessages && heldBytes < configuration.maxQueuedBytes
    }

    /// Messages held for sending (queued or unacknowledged), and their bytes.
    public var queuedMessages: Int { held.count }
    /// The bytes of the messages held for sending.
    public var queuedBytes: Int { heldBytes }
    /// Bytes held on the receive side (fragments, out-of-order and untaken messages).
    public var receiveBufferedBytes: Int { reassembler.bufferedBytes }
    /// Messages complete in order and not yet taken.
    public var messagesReady: Int { reassembler.readyCount }
    /// DATA packets in flight.
    public var packetsInFlight: Int { dataInFlight }

    /// True once the session is over and the caller can drop it.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// Takes the RTT samples gathered since the last call, oldest first.
    public mutating func takeRTTSamples() -> [UInt64] {
        var samples: [UInt64] = []
        while let sample = rttSamples.popFirst() { samples.append(sample) }
        return samples
    }

    /// Takes the delivery-latency samples (from `send` to the last fragment's acknowledgement) gathered since
    /// the last call, oldest first.
    public mutating func takeLatencySamples() -> [UInt64] {
        var samples: [UInt64] = []
        while let sample = latencySamples.popFirst() { samples.append(sample) }
        return samples
    }

    /// The next event, if any.
    public mutating func pollEvent() -> Event? {
        events.popFirst()
    }

    /// Keeps an RTT sample unless `maxSamples` are waiting already.
    mutating func recordRTT(_ sample: UInt64) {
        if rttSamples.count < configuration.maxSamples {
            rttSamples.append(sample)
        } else {
            stats.samplesDropped += 1
        }
    }

    /// Keeps a delivery-latency sample unless `maxSamples` are waiting already.
    mutating func recordLatency(_ sample: UInt64) {
        if latencySamples.count < configuration.maxSamples {
            latencySamples.append(sample)
        } else {
            stats.samplesDropped += 1
        }
    }

    /// `now − then`, or zero if the clock went backwards.
    static func elapsed(_ now: UInt64, since then: UInt64) -> UInt64 {
        now >= then ? now - then : 0
    }

    /// `time + duration`, saturating.
    static func after(_ time: UInt64, _ duration: UInt64) -> UInt64 {
        let (sum, overflow) = time.addingReportingOverflow(duration)
        return overflow ? .max : sum
    }
}
