import RelayIO
import RelayProtocol
import Synchronization

/// A reliable-UDP listener (docs/reliable-udp.md): clients get ordered, acknowledged, authenticated and (by
/// default) encrypted sessions, and each session is one plain-UDP flow to a server of the backend group, one
/// datagram per message each way, so the server needs no change at all.
///
/// One `SO_REUSEPORT` socket per event loop, each driven by a `ReliableUDPLoop` that owns the sessions it made.
/// The handshake is stateless until a client authenticates (its cookie secret is shared by the loops, behind a
/// lock taken per handshake packet, never per session packet). The `SessionStore` admits sessions against
/// `max_sessions` synchronously, so the datagram path never awaits an actor; the store also answers operators
/// (`GET /sessions`, `POST /cleanup`). `rate_limit.packets_per_ip` is checked on every datagram before any
/// cryptography, `per_ip` and `total` on every HELLO (answered REFUSED "rate limited", 26 bytes).
public final class ReliableUDPListenerService: Service {
    public let name: String
    /// The address actually bound.
    public let address: SocketAddress
    /// Sessions: admission against `max_sessions`, and the list operators read.
    public let store: SessionStore<ReliableUDPSession>
    /// The `rate_limit`.
    public let rateLimiter: RateLimiter
    /// What happened to the packets and sessions.
    public let counters = ReliableUDPCounters()
    /// Every session of the listener by id, whichever loop holds it.
    let directory = ReliableSessionDirectory()
    /// The server half of the handshake: cookie secrets, keys, what WELCOME offers.
    let handshake: SanitizerVisibleMutex<ReliableServerHandshake>
    /// The cryptography of handshakes and sessions.
    let cryptography = ReliableStandardCryptography()
    let loops: [EventLoop]
    let logger: Logger
    /// Where ended sessions are recorded, when the access log is on.
    let accessLog: AccessLog?
    /// Where new sessions go and how they behave; read once per new session.
    private let settings: SanitizerVisibleMutex<Settings>
    /// The largest session packet accepted, read per packet.
    private let maxPacketSizeValue: Atomic<Int>
    /// False once the run is stopping: new handshakes are refused as server full.
    private let accepting = Atomic<Bool>(true)
    private let prebound: SanitizerVisibleMutex<[UDPSocket]>
    /// The loops of the run in progress (for the admin API and tests).
    private let running = SanitizerVisibleMutex<[ReliableUDPLoop]>([])
    /// Set by `failNextReceive(with:)` (tests only).
    private let failureInjected = Atomic<Bool>(false)
    private let injectedFailure = SanitizerVisibleMutex<(any Error)?>(nil)

    private struct Settings {
        var group: BackendGroup
        var session: ReliableSessionConfiguration
    }

    public init(name: String, address requested: SocketAddress, group: BackendGroup, loops: [EventLoop],
                idleTimeout: Duration, reliable: ReliableListenerConfig, rateLimit: RateLimitConfig = .none,
                accessLog: AccessLog? = nil, logger: Logger) throws {
        self.name = name
        self.loops = loops
        self.logger = logger.module("listener").with(["listener": name])
        self.accessLog = accessLog
        store = SessionStore(limit: reliable.maxSessions, idleTimeout: idleTimeout)
        rateLimiter = RateLimiter(config: rateLimit)
        settings = SanitizerVisibleMutex(Settings(group: group, session: Self.sessionConfiguration(reliable)))
        maxPacketSizeValue = Atomic(reliable.maxPacketSize)
        let now = EventLoop.now()
        handshake = SanitizerVisibleMutex(ReliableServerHandshake(
            configuration: .init(parameters: Self.parameters(reliable, idleTimeout: idleTimeout)),
            keys: reliable.keys.keys, secret: SecureRandom.bytes(count: 32), cryptography: cryptography, now: now))
        let sockets = try UDPListenerService.bind(name: name, address: requested, loops: loops)
        address = try sockets[0].localAddress()
        prebound = SanitizerVisibleMutex(sockets)
    }

    /// What WELCOME offers.
    static func parameters(_ reliable: ReliableListenerConfig, idleTimeout: Duration) -> ReliableSessionParameters {
        let milliseconds = max(1, min(UInt64(UInt32.max), idleTimeout.nanosecondsClamped / 1_000_000))
        return ReliableSessionParameters(encrypted: reliable.encryption, maxPacketSize: reliable.maxPacketSize,
                                         idleTimeoutMilliseconds: UInt32(milliseconds))
    }

    /// The sessions' own knobs: the protocol's defaults and the listener's redundancy (the session itself keeps its
    /// keep-alive within a third of the idle timeout WELCOME announced).
    static func sessionConfiguration(_ reliable: ReliableListenerConfig) -> ReliableSessionConfiguration {
        ReliableSessionConfiguration(redundancy: reliable.sessionRedundancy)
    }

    /// The largest session packet a client may send (`max_packet_size`).
    var maxPacketSize: Int { maxPacketSizeValue.load(ordering: .relaxed) }

    /// Whether new sessions are taken now (false while the run stops).
    var acceptsSessions: Bool { accepting.load(ordering: .relaxed) }

    /// The group new sessions go to, and their configuration.
    var sessionSettings: (BackendGroup, ReliableSessionConfiguration) {
        settings.withLock { ($0.group, $0.session) }
    }

    /// The group new sessions are relayed to.
    public var group: BackendGroup { settings.withLock { $0.group } }

    /// Applies a reloaded config that keeps this listener's sockets: the keys file as read again, the new group,
    /// limits and parameters for new sessions; open sessions keep theirs.
    public func update(group: BackendGroup, idleTimeout: Duration, reliable: ReliableListenerConfig,
                       rateLimit: RateLimitConfig? = nil) async {
        settings.withLock { $0 = Settings(group: group, session: Self.sessionConfiguration(reliable)) }
        maxPacketSizeValue.store(reliable.maxPacketSize, ordering: .relaxed)
        handshake.withLock { handshake in
            handshake.updateKeys(reliable.keys.keys)
            handshake.updateParameters(Self.parameters(reliable, idleTimeout: idleTimeout))
        }
        await store.update(limit: reliable.maxSessions, idleTimeout: idleTimeout)
        if let rateLimit { await rateLimiter.update(rateLimit) }
        logger.info("reliable-udp listener updated", ["clients": reliable.keys.entries.count,
                                                      "max_sessions": reliable.maxSessions])
    }

    /// Closes the sockets bound by `init` when the service will never run (a reload that was called off).
    func discard() {
        prebound.withLock { sockets in
            for socket in sockets { socket.close() }
            sockets.removeAll()
        }
    }

    /// Relays until `context.shutdown` fires (every session gets CLOSE "shutting down", then it returns) or a
    /// receive loop fails (every session of the run ends, then it throws and the supervisor restarts the
    /// listener: clients make new sessions with a new handshake).
    public func run(_ context: ServiceContext) async throws {
        let sockets = try prebound.withLock { sockets -> [UDPSocket] in
            if sockets.isEmpty { return try UDPListenerService.bind(name: name, address: address, loops: loops) }
            defer { sockets.removeAll() }
            return sockets
        }
        defer { for socket in sockets { socket.close() } }
        let drivers = sockets.map { ReliableUDPLoop(socket: $0, service: self) }
        accepting.store(true, ordering: .relaxed)
        running.withLock { $0 = drivers }
        defer {
            running.withLock { $0 = [] }
            for driver in drivers { driver.stop() }
        }
        let stop = context.shutdown.onTrigger { [self] in
            accepting.store(false, ordering: .relaxed)
            // CLOSE to every client while the sockets still send, then wake the receive loops.
            for driver in drivers { driver.closeAll(.shuttingDown) }
            for socket in sockets { socket.abort() }
        }
        defer { stop.cancel() }
        logger.info("listening", ["address": address, "protocol": "reliable-udp", "loops": sockets.count])
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                for driver in drivers {
                    tasks.addTask(executorPreference: driver.socket.loop) { try await driver.run(context) }
                }
                tasks.addTask { try await self.housekeeping(context) }
                while try await tasks.next() != nil {
                    if context.shutdown.isTriggered { break }
                }
                tasks.cancelAll()
            }
        } catch {
            let left = await store.closeAll(.internalError)
            if !left.isEmpty { logger.info("closed the sessions of the failed run", ["sessions": left.count]) }
            throw error
        }
        let left = await store.closeAll(.shuttingDown)
        if !left.isEmpty { logger.info("closed sessions on shutdown", ["sessions": left.count]) }
    }

    /// Rotates the cookie secret when due and lets the rate limiter forget quiet clients, once a second.
    private func housekeeping(_ context: ServiceContext) async throws {
        while !context.shutdown.isTriggered {
            try await Task.sleep(for: .seconds(1))
            let now = EventLoop.now()
            await rateLimiter.sweep(now: now)
            handshake.withLock { handshake in
                if now >= handshake.nextRotation { handshake.rotate(secret: SecureRandom.bytes(count: 32), now: now) }
            }
        }
    }

    /// Dropped datagrams by reason, for the metrics and the admin API.
    public var dropCounts: [(String, Int)] { counters.dropCounts }

    /// Sessions open now, over every loop.
    public var sessions: [ReliableUDPSession] { get async { await store.open } }

    // MARK: - Test hooks

    /// True while a run is receiving (its sockets are bound), so tests can wait for a restarted run.
    var isRunning: Bool { running.withLock { !$0.isEmpty } }

    /// Makes the receive loop that gets the next batch throw `error`, as a failing `recvmmsg` would, so tests can
    /// watch the supervisor restart this listener.
    func failNextReceive(with error: any Error) {
        injectedFailure.withLock { $0 = error }
        failureInjected.store(true, ordering: .releasing)
    }

    /// Throws the injected failure, once.
    func checkInjectedFailure() throws {
        guard failureInjected.load(ordering: .relaxed), failureInjected.exchange(false, ordering: .acquiring) else {
            return
        }
        if let error = injectedFailure.withLock({ error in defer { error = nil }; return error }) { throw error }
    }
}
