import RelayIO
import RelayProtocol
import Synchronization

/// One client of a reliable-UDP listener: its protocol state machine (`ReliableSession`) and the connected
/// socket that carries its messages, one datagram each, to one server of the backend group.
///
/// The session belongs to the event loop that made it (`owner`): its state machine, its backend socket and the
/// task that reads that socket are touched only on that loop's thread, so the lock around the state is never
/// contended there; other threads take it only to read (the admin API) or go through the owner (a packet from
/// a client that moved to another loop, a close asked by an operator). What the forwarding path does to it is
/// `ReliableUDPLoop`'s business; this type holds the state and answers questions about it.
public final class ReliableUDPSession: Sendable {
    /// The session id WELCOME gave the client: the key of every table the session is in.
    public let id: UInt64
    /// Who the client said it was, and proved with its key.
    public let clientID: String
    /// The server the session relays to.
    public let server: ServerHandle
    /// The group `server` was picked from: it hears about a server that answers with ICMP unreachable.
    let group: BackendGroup
    /// Connected to `server`; replies arrive here. Closed by the session's reader task when it ends.
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
        /// When the loop's schedule will next look at this session; nil when it is not scheduled.
        var scheduledAt: UInt64?
        /// The reader task stopped reading the server because the send queue was full.
        var readerWaiting = false
        /// The counters last added to the listener's, so only what changed since is added.
        var reported = ReliableSessionStats()
        /// How the session ended for the application, once it has: the reason and whether the client said so.
        var end: (reason: ReliableCloseReason, byClient: Bool)?
        /// The end was recorded (metrics, access log, store): done once.
        var endRecorded = false
        /// An operator or the listener asked for the session to close, with this reason, from another thread.
        var closeRequested: ReliableCloseReason?
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

    /// Asks the owning loop to close the session with CLOSE `reason` (it does so at its next turn). Safe from any
    /// thread; idempotent.
    public func close(_ reason: ReliableCloseReason) {
        owner.requestClose(self, reason)
    }
}
