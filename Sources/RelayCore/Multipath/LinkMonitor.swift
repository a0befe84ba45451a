import RelayIO
import RelayProtocol

/// The multipath client's link choice at run time: one per multipath-client listener, run by the supervisor.
///
/// A thin shell over `LinkMonitorState`: it feeds the state the heartbeat answers the listener's receive loops
/// post (`answered`, which never waits), the links' byte counts and the clock, performs the actions the state
/// returns (heartbeats sealed and sent on their link, names resolved in child tasks, log and access-log lines,
/// counters), and publishes the routing decision. The send path reads `route` — one lock, one copy, no await —
/// for every datagram, so a switch takes effect for the next datagram after the event that caused it.
public actor LinkMonitor: Service {
    public nonisolated let name: String
    /// The listener this monitor serves, for logs.
    nonisolated let listener: String
    /// The links, in configuration order.
    nonisolated let links: [MultipathLink]
    /// The client's channel, shared with the listener: heartbeats are numbered in the same sequence as data.
    nonisolated let channel: SharedMultipathChannel
    /// The routing decision the send path reads.
    private nonisolated let published: SanitizerVisibleMutex<LinkMonitorSnapshot>
    /// Heartbeat answers and resolved addresses waiting for the run loop.
    private nonisolated let inbox = SanitizerVisibleMutex<[Event]>([])
    /// Wakes the run loop when something lands in the inbox.
    private nonisolated let doorbell = Doorbell()
    /// The monotonic clock in nanoseconds (`EventLoop.now`; tests may pass another).
    private nonisolated let clock: @Sendable () -> UInt64
    private nonisolated let logger: Logger
    private let accessLog: AccessLog?
    /// The rules and measurements.
    private(set) var state: LinkMonitorState
    /// Switches of the active link by reason (`failover`, `better_score`).
    private(set) var switchesByReason: [String: Int] = ["failover": 0, "better_score": 0]
    /// The last switch, for `GET /links`: when (seconds since 1970), from which link, to which, and why.
    private(set) var lastSwitch: (at: Double, from: String?, to: String, reason: String)?
    /// Links whose names the last actions asked to resolve again.
    private var pendingResolutions: [Int] = []

    /// Something the run loop must take in.
    enum Event: Sendable {
        /// A HEARTBEAT_ACK for link `link` echoing `timestamp` arrived at `at`.
        case answered(link: Int, timestamp: UInt64, at: UInt64)
        /// Link `link`'s name resolved to `address`.
        case resolved(link: Int, address: SocketAddress)
    }

    init(listener: String, links: [MultipathLink], channel: SharedMultipathChannel,
         parameters: MultipathParameters, accessLog: AccessLog?, logger: Logger,
         clock: @escaping @Sendable () -> UInt64 = EventLoop.now) {
        name = "links:\(listener)"
        self.listener = listener
        self.links = links
        self.channel = channel
        self.clock = clock
        self.accessLog = accessLog
        self.logger = logger.module("multipath").with(["listener": listener])
        let specs = links.map { MultipathLinkSpec(name: $0.name, priority: $0.priority) }
        let state = LinkMonitorState(parameters: parameters, links: specs, now: clock())
        self.state = state
        published = SanitizerVisibleMutex(state.snapshot)
    }

    /// The latest routing decision: the links each DATA frame goes on (active first) and what frames announce.
    public nonisolated var route: LinkMonitorSnapshot { published.withLock { $0 } }

    /// Posts a heartbeat answer from a receive loop; never waits.
    nonisolated func answered(link: Int, timestamp: UInt64) {
        post(.answered(link: link, timestamp: timestamp, at: clock()))
    }

    /// Queues `event` for the run loop and wakes it.
    private nonisolated func post(_ event: Event) {
        inbox.withLock { $0.append(event) }
        doorbell.ring()
    }

    /// Every link as measured now.
    public var statuses: [LinkStatus] { state.snapshot.links }

    /// Runs heartbeats, measurement and switching until `context.shutdown` fires.
    public func run(_ context: ServiceContext) async throws {
        let stop = context.shutdown.onTrigger { [doorbell] in doorbell.ring() }
        defer { stop.cancel() }
        await withTaskGroup(of: Void.self) { resolutions in
            for link in links { resolve(link, in: &resolutions) }
            while !context.shutdown.isTriggered, !Task.isCancelled {
                step()
                for link in pendingResolutions { resolve(links[link], in: &resolutions) }
                pendingResolutions.removeAll()
                let wait = state.nextWakeup &- min(clock(), state.nextWakeup)
                await waitForEvent(upTo: max(wait, 1_000_000))
            }
            resolutions.cancelAll()
        }
    }

    /// Takes in what arrived, ticks when due, performs the actions and publishes the route.
    private func step() {
        let events = inbox.withLock { events -> [Event] in
            defer { events.removeAll(keepingCapacity: true) }
            return events
        }
        var actions: [LinkMonitorAction] = []
        for event in events {
            switch event {
            case .answered(let link, let timestamp, let at):
                actions += state.heartbeatAnswered(link: link, echoedTimestamp: timestamp, now: max(at, timestamp))
            case .resolved(let link, let address):
                if links[link].setAddress(address) {
                    logger.info("link address changed", ["link": links[link].name, "address": address])
                    actions += state.addressChanged(link: link, now: clock())
                }
            }
        }
        let now = clock()
        if state.nextWakeup <= now {
            for link in links {
                actions += state.recordTraffic(link: link.index, totalBytes: link.totalBytes, now: now)
            }
            actions += state.tick(now: now)
        }
        perform(actions)
        let snapshot = state.snapshot
        published.withLock { current in
            if current.generation != snapshot.generation { current = snapshot }
        }
    }

    /// Sleeps until the doorbell rings or `nanoseconds` pass.
    private nonisolated func waitForEvent(upTo nanoseconds: UInt64) async {
        await withTaskGroup(of: Void.self) { waiters in
            waiters.addTask { [doorbell] in await doorbell.wait() }
            waiters.addTask { try? await Task.sleep(for: .nanoseconds(Int64(clamping: nanoseconds))) }
            await waiters.next()
            waiters.cancelAll()
        }
    }

    private func perform(_ actions: [LinkMonitorAction]) {
        for action in actions {
            switch action {
            case .sendHeartbeat(let link, let heartbeat):
                let route = state.snapshot
                let frame = try? channel.withLock { channel in
                    try channel.seal(.heartbeat(heartbeat), activeLink: route.activeLink.map(UInt8.init),
                                     replyFanout: route.replyFanout)
                }
                if let frame { links[link].send(frame) }
            case .switchActive(let from, let to, let reason):
                let key: String
                switch reason {
                case .failover: key = "failover"
                case .betterScore: key = "better_score"
                }
                switchesByReason[key, default: 0] += 1
                let fromName = from.map { links[$0].name }
                lastSwitch = (WallClock.seconds(), fromName, links[to].name, reason.description)
                var fields: [(String, String)] = [("listener", listener), ("from", fromName ?? "-"),
                                                  ("to", links[to].name), ("reason", key)]
                if case .betterScore(let gain) = reason { fields.append(("gain", gain.scoreText)) }
                logger.log(.info, "link switch", fields: fields)
                accessLog?.recordEvent("link switch", fields: fields)
            case .switchHeld(let from, let to, let gain, let kbps):
                logger.info("link switch held: the active link is busy", [
                    "from": links[from].name, "to": links[to].name, "gain": gain.scoreText,
                    "kbps": Int(kbps.rounded()), "threshold_kbps": state.parameters.throughputThresholdKbps])
            case .linkDown(let link, let misses):
                logger.warn("link down: heartbeats unanswered; check the path to the multipath server", [
                    "link": links[link].name, "remote": links[link].remote, "misses": misses])
            case .linkUp(let link):
                logger.info("link up", ["link": links[link].name, "remote": links[link].remote])
            case .resolve(let link):
                if case .hostname = links[link].remote { pendingResolutions.append(link) }
            case .sendTargetsChanged(let targets):
                logger.debug("send targets changed", ["links": targets.map { links[$0].name }.joined(separator: ",")])
            }
        }
    }

    /// Resolves `link`'s name in a child task and posts the address to use.
    private nonisolated func resolve(_ link: MultipathLink, in group: inout TaskGroup<Void>) {
        guard case .hostname(let host, let port) = link.remote else { return }
        group.addTask { [self] in
            do {
                let addresses = try await HostResolver.resolve(host, port: port)
                // The family the link uses already, IPv4 before it has one (`localhost` lists ::1 first on many
                // systems, where servers often listen on 127.0.0.1 only); any address when that family is gone.
                let family = link.address?.isIPv6 ?? false
                guard let address = addresses.first(where: { $0.isIPv6 == family }) ?? addresses.first else { return }
                link.resolutions.add(1, ordering: .relaxed)
                post(.resolved(link: link.index, address: address))
            } catch is CancellationError {
            } catch {
                logger.warn("cannot resolve a link's name; it keeps its last address", [
                    "link": link.name, "remote": link.remote, "error": "\(error)"])
            }
        }
    }
}
