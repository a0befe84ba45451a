import RelayIO
import RelayProtocol
import Synchronization

/// One client of a reliable-UDP listener: its protocol state machine (`ReliableSession`) and the connected
/// socket that carries its messages, one datagram each, to one server of the backend group.
///
/// The session belongs to the event loop that made it (`owner`): its backend socket and the task that reads it
/// live there, and so does its deadline in the loop's schedule. The state machine sits behind a lock that is
/// uncontended on that loop's thread; other threads take it for a packet from a client that moved to another
/// loop's socket (NAT rebinding), for the admin API, and for a close asked by an operator. What the forwarding
/// path does with it is `ReliableUDPLoop`'s business; this type holds the state and answers questions about it.
public final class ReliableUDPSession: Sendable {
    /// The session id WELCOME gave the client: the key of every table the session is in.
    public let id: UInt64
    /// Who the client said it was, and proved with its key.
    public let clientID: String
    /// The server the session relays to.
    public let server: ServerHandle
    /// The group `server` was picked from: it hears about a server that answers with ICMP unreachable.
    let group: BackendGroup
    /// Connected to `server`; replies arrive here. Closed when the session ends.
    let socket: UDPSocket
    /// The loop that owns the session.
    let owner: ReliableUDPLoop
    /// When the handshake finished (monotonic ns).
    public let opened: UInt64
    /// When the client was last heard from (an authenticated packet, monotonic ns), for `POST /cleanup`.
    let lastActivity: Atomic<UInt64>
    /// Message bytes the client sent (relayed to the server) and the server sent (relayed to the client), for
    /// the access log.
    let bytesIn = Atomic<Int>(0)
    let bytesOut = Atomic<Int>(0)
    /// Rung when the send queue has room again, or the session ended: wakes the reader task that stopped
    /// reading the server (backpressure).
    let room = Doorbell()
    /// The state behind the lock.
    let state: SanitizerVisibleMutex<State>

    /// What changes as packets come and go.
    struct State: Sendable {
        /// The protocol: acknowledgements, retransmission, order, flow control, keys.
        var machine: ReliableSession
        /// Where the client is now: the source of the handshake, then of the newest authenticated packet.
        var client: SocketAddress
        /// `client` as the protocol encodes it, so a packet from the same address needs no new encoding.
        var clientPeer: ReliablePeerAddress
        /// The deadline the loop's schedule holds for this session; nil when it is not scheduled.
        var scheduledAt: UInt64?
        /// The reader task stopped reading the server because the send queue was full.
        var readerWaiting = false
        /// The counters last added to the listener's, so only what changed since is added.
        var reported = ReliableSessionStats()
        /// How the session ended for the application, once it has: the reason and whether the client said so.
        var end: (reason: ReliableCloseReason, byClient: Bool)?
        /// The end was recorded (metrics, access log, store): done once.
        var endRecorded = false
    }

    init(setup: ReliableSessionSetup, configuration: ReliableSessionConfiguration, client: SocketAddress,
         server: ServerHandle, group: BackendGroup, socket: UDPSocket, owner: ReliableUDPLoop,
         cryptography: any ReliableCryptography, now: UInt64) {
        id = setup.sessionID
        clientID = setup.clientID
        self.server = server
        self.group = group
        self.socket = socket
        self.owner = owner
        opened = now
        lastActivity = Atomic(now)
        let machine = ReliableSession(setup: setup, configuration: configuration, cryptography: cryptography,
                                      now: now)
        state = SanitizerVisibleMutex(State(machine: machine, client: client, clientPeer: setup.peerAddress))
    }

    /// A copy of what the admin API shows, taken under the lock.
    var snapshot: Snapshot {
        state.withLock { state in
            Snapshot(client: state.client, smoothedRTT: state.machine.rtt.smoothed,
                     rttSampled: state.machine.rtt.latest != nil, packetsInFlight: state.machine.packetsInFlight,
                     queuedMessages: state.machine.queuedMessages, stats: state.machine.stats,
                     open: state.end == nil)
        }
    }

    /// What `GET /sessions` shows of a session.
    struct Snapshot: Sendable {
        var client: SocketAddress
        var smoothedRTT: UInt64
        var rttSampled: Bool
        var packetsInFlight: Int
        var queuedMessages: Int
        var stats: ReliableSessionStats
        var open: Bool
    }

    /// True once the session ended for the application (closed either way, or closing).
    var hasEnded: Bool { state.withLock { $0.end != nil } }
}

extension ReliableUDPSession: StoredSession {
    /// Sessions closed for idleness by `POST /cleanup` send CLOSE "idle timeout".
    public static var idleEnd: ReliableCloseReason { .idleTimeout }

    /// When the client was last heard from.
    public var lastActivityTime: UInt64 { lastActivity.load(ordering: .relaxed) }

    /// Closes the session with CLOSE `reason` now. Safe from any thread; idempotent.
    public func close(_ reason: ReliableCloseReason) {
        owner.close(self, reason, now: EventLoop.now())
    }
}
