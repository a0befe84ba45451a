import RelayIO
import Synchronization

/// One UDP client of a listener and the connected socket that carries its datagrams to one server.
///
/// The forwarding path touches a flow with atomics only; its creation and expiry go through the
/// `SessionStore`. The flow's socket is registered on the loop whose listening socket receives the
/// client's datagrams (SO_REUSEPORT hashes a client to one socket), so both directions of a flow run
/// on one thread.
public final class UDPFlow: Sendable {
    /// The client's address: the flow's key.
    public let client: SocketAddress
    /// The server the flow relays to.
    public let server: ServerHandle
    /// The group `server` was picked from (as configured when the flow opened): it hears about an ICMP
    /// unreachable from the server.
    let group: BackendGroup
    /// Replies after which the flow closes (`responses`, 0 for no limit), as configured when it opened.
    let responses: Int
    /// Connected to `server`; replies arrive here.
    let socket: UDPSocket
    /// Sent before each datagram to the server: the group's PROXY protocol header (`send_proxy: "v2"`).
    let proxyPrefix: [UInt8]?
    /// When the flow opened (monotonic ns).
    public let opened: UInt64
    /// Last datagram either way (monotonic ns), for idle expiry.
    let lastActivity: Atomic<UInt64>
    /// Replies relayed to the client.
    public let replies = Atomic<Int>(0)
    /// Datagrams relayed to the server.
    public let requests = Atomic<Int>(0)
    /// Bytes client → server and server → client.
    public let bytesUp = Atomic<Int>(0)
    public let bytesDown = Atomic<Int>(0)
    /// The server answered with ICMP unreachable: the next datagram moves the flow to another server.
    let unreachable = Atomic<Bool>(false)
    /// Closed (expired, done after `responses` replies, moved or shut down): no longer in any table.
    let closed = Atomic<Bool>(false)
    /// Directions whose path refused a segmented send (`Segmentation` bits): they send runs with `sendmmsg`.
    let unsegmentable = Atomic<UInt8>(0)
    /// The loop's table the flow is found in.
    let table: FlowTable
    /// Why the flow closed (the first reason given to `close`), for the access log.
    private let endReason = Atomic<UInt8>(0)

    /// Why the flow ended (`open` while it has not).
    var end: End {
        if unreachable.load(ordering: .relaxed) { return .unreachable }
        return End(rawValue: endReason.load(ordering: .relaxed)) ?? .open
    }

    init(client: SocketAddress, server: ServerHandle, group: BackendGroup, responses: Int, socket: UDPSocket,
         table: FlowTable, now: UInt64, proxyPrefix: [UInt8]? = nil) {
        self.proxyPrefix = proxyPrefix
        self.client = client
        self.server = server
        self.group = group
        self.responses = responses
        self.socket = socket
        self.table = table
        self.opened = now
        self.lastActivity = Atomic(now)
    }

    func touch(_ now: UInt64) {
        lastActivity.store(now, ordering: .relaxed)
    }

    /// Takes the flow out of its loop's table and wakes the reply task (which closes the socket). Safe
    /// from any thread; idempotent.
    public func close(_ reason: End) {
        _ = endReason.compareExchange(expected: End.open.rawValue, desired: reason.rawValue, ordering: .relaxed)
        if !closed.exchange(true, ordering: .acquiringAndReleasing) {
            table.remove(self)
            socket.abort()
        }
    }

    /// Flows are identified by object: a client that moves to another server gets a new flow.
    var id: ObjectIdentifier { ObjectIdentifier(self) }
}

extension UDPFlow: StoredSession {
    /// Idle flows end as `idle`.
    public static var idleEnd: End { .idle }
    /// The last datagram either way.
    public var lastActivityTime: UInt64 { lastActivity.load(ordering: .relaxed) }
}
