/// Runs every long-lived component of the daemon as a child task of one task group, restarts the ones
/// that fail, and stops them all gracefully.
///
/// - A service that throws is restarted after an exponential backoff (see `RestartPolicy`). The backoff
///   runs inside the service's own new child task, so it never blocks the supervisor or other services,
///   and it ends early when the service is asked to stop.
/// - A service that would need more than `policy.maxRestarts` restarts inside `policy.window` escalates:
///   every other service is stopped gracefully and `run()` throws
///   `SupervisorError.restartIntensityExceeded`.
/// - A service that returns on its own is done: it is logged and not restarted.
/// - `shutdown()` fires every service's `ShutdownSignal`, waits for all of them to return, and cancels the
///   tasks of those still running `drainTimeout` + 1s later. Then `run()` returns.
///
/// `run()` keeps going while no services are left (one may be added later); it ends only through
/// `shutdown()`, escalation, or cancellation of its task (which stops the services like `shutdown()`,
/// except that they see `Task.isCancelled` at once, and then returns normally). A service that ignores
/// both its shutdown signal and task cancellation keeps `run()` from returning: Swift has no way to stop
/// a task that does not cooperate.
public actor Supervisor {
    /// Identifies one added service for its whole life, across restarts. Names can come back after a
    /// removal; ids never do, so a late result from a removed service is never mistaken for its successor.
    typealias ChildID = UInt64

    /// Lifecycle of the supervisor; `run()` moves it forward only.
    enum State {
        /// Constructed; services may be added or removed, nothing runs yet.
        case initial
        /// `run()` is supervising: failed services are restarted, new ones started.
        case running
        /// Every service has been told to stop; nothing is restarted or started any more.
        case shuttingDown(ShutdownCause)
        /// `run()` has returned or thrown.
        case finished
    }

    /// Why the supervisor is shutting down, which decides whether `run()` returns or throws.
    enum ShutdownCause {
        /// `shutdown()` was called.
        case requested
        /// A service exceeded its restart intensity; `run()` throws this error once everything stopped.
        case escalated(SupervisorError)
    }

    /// How one run of a service ended.
    enum ServiceExit: Sendable {
        /// `run(_:)` returned.
        case returned
        /// `run(_:)` threw.
        case threw(any Error)
        /// The service was told to stop while waiting out its restart backoff, so it was not started again.
        case stoppedDuringBackoff
    }

    /// Everything a task of the group can report; the run loop handles each in one place.
    enum ChildTaskResult: Sendable {
        /// A service's task finished.
        case serviceExited(ChildID, ServiceExit)
        /// `add`, `remove` or `shutdown` left work for the run loop.
        case doorbellRang
        /// The drain time after a supervisor-wide shutdown is over; still-running services get cancelled.
        case drainDeadlinePassed
        /// The drain time of one removed service is over; it gets cancelled if it is still running.
        case removalDeadlinePassed(ChildID)
        /// A deadline timer was cancelled because everything finished before it; nothing to do.
        case timerCancelled
    }

    /// Book-keeping for one added service.
    struct Child {
        /// The component itself; run again on each restart.
        let service: any Service
        /// `service.name`, read once so it cannot change under us.
        let name: String
        /// The supervisor's logger with `service=<name>`, for the service and for lines about it.
        let logger: Logger
        /// Graceful stop for this service only; fired on removal or supervisor shutdown.
        let shutdown: ShutdownSignal
        /// Forced stop for this service only: cancels its task. Used when a removed service overruns its
        /// drain time (a supervisor-wide shutdown cancels the whole group instead).
        let kill: ShutdownSignal
        /// Number of the current (or next) run: 0 first, n after n restarts.
        var attempt = 0
        /// When each restart inside the current window happened, oldest first; drives both the backoff
        /// exponent and escalation.
        var recentRestarts: [ContinuousClock.Instant] = []
        /// Whether the group holds a task for this service (running, or waiting out a backoff).
        var hasTask = false
        /// Set by `remove(_:)`: the service is stopping and must not be restarted.
        var removed = false
        /// Set when its task was cancelled for overrunning the drain time, so its exit is logged as forced.
        var forced = false
    }

    /// Slack on top of `drainTimeout` before tasks are cancelled, so a service that honours its drain
    /// time to the letter is not cut off by scheduling delay.
    static let forcedCancelGrace: Duration = .seconds(1)

    /// Restart and escalation rules, shared by every service.
    private let policy: RestartPolicy
    /// Handed to each service in its context, and the basis of the forced-cancel deadline.
    private var drainTimeout: Duration
    /// Supervisor-level lines; services get a copy with `service=<name>`.
    private let logger: Logger
    /// Set by `shutdown()`, which is nonisolated; read by the run loop and by `run()` before it starts.
    private let stopRequested = ShutdownSignal()
    /// Wakes the run loop after `add`, `remove` or `shutdown`.
    private let doorbell = Doorbell()
    /// Where the supervisor is in its life.
    private var state = State.initial
    /// Every service that has not finished yet, including removed ones still draining.
    private var children: [ChildID: Child] = [:]
    /// Next id to hand out; ids grow, so sorting by id gives the order services were added in.
    private var nextChildID: ChildID = 0
    /// Restarts per service name since that name was (last) added, kept after the service ends so tests
    /// and metrics can still read it.
    private var restartCounts: [String: Int] = [:]
    /// Services added while running that the run loop has not started yet.
    private var pendingStarts: [ChildID] = []
    /// Services removed while running whose drain deadline the run loop has not armed yet.
    private var pendingRemovalDeadlines: [ChildID] = []
    /// A problem with the services given to `init` (which cannot throw); `run()` throws it.
    private var configurationError: SupervisorError?

    /// - Parameters:
    ///   - services: started, in this order, when `run()` begins. Duplicate names make `run()` throw
    ///     `SupervisorError.duplicateServiceName`.
    ///   - policy: restart and escalation rules.
    ///   - drainTimeout: how long a service may take to stop after its shutdown signal fires.
    ///   - logger: supervisor lines are logged here; each service gets a copy with `service=<name>`.
    public init(services: [any Service], policy: RestartPolicy = .init(), drainTimeout: Duration, logger: Logger) {
        self.policy = policy
        self.drainTimeout = drainTimeout
        self.logger = logger
        var children: [ChildID: Child] = [:]
        var names: Set<String> = []
        var configurationError: SupervisorError?
        for (index, service) in services.enumerated() {
            let name = service.name
            guard names.insert(name).inserted else {
                if configurationError == nil { configurationError = .duplicateServiceName(name) }
                continue
            }
            children[ChildID(index)] = Self.makeChild(service, name: name, logger: logger)
        }
        self.children = children
        self.nextChildID = ChildID(services.count)
        self.restartCounts = Dictionary(uniqueKeysWithValues: names.map { ($0, 0) })
        self.configurationError = configurationError
    }

    // MARK: - Public API

    /// Runs every service until a graceful shutdown completes (returns) or a service exceeds its restart
    /// intensity (throws `SupervisorError.restartIntensityExceeded` once the others have stopped).
    /// Returns at once if `shutdown()` was called before. May be called only once.
    public func run() async throws {
        guard case .initial = state else {
            preconditionFailure("Supervisor.run() may only be called once")
        }
        if let configurationError {
            state = .finished
            throw configurationError
        }
        if stopRequested.isTriggered {
            state = .finished
            children = [:]
            logger.info("shutdown requested before the supervisor started; not starting services")
            return
        }
        state = .running
        logger.info("supervisor starting", ["services": serviceNames.joined(separator: ",")])

        await withTaskGroup(of: ChildTaskResult.self) { group in
            for id in children.keys.sorted() {
                launch(id, after: nil, in: &group)
            }
            armDoorbell(in: &group)
            while !allStopped, let result = await group.next() {
                if case .running = state {
                    if stopRequested.isTriggered {
                        logger.info("shutdown requested", ["drain_timeout": drainTimeout.compactDescription])
                        beginShutdown(.requested, in: &group)
                    } else if Task.isCancelled {
                        // Every task of the group is cancelled with us; stop instead of restarting them
                        // (and instead of re-arming a doorbell that would return at once, forever).
                        logger.warn("supervisor task cancelled; stopping services")
                        beginShutdown(.requested, in: &group)
                    }
                }
                handle(result, in: &group)
            }
            // Only helper tasks are left (the doorbell and deadline timers); they end on cancellation.
            group.cancelAll()
        }

        let finalState = state
        state = .finished
        if case .shuttingDown(.escalated(let error)) = finalState {
            logger.info("supervisor stopped after escalation", ["error": error.description])
            throw error
        }
        logger.info("supervisor stopped")
    }

    /// Requests a graceful shutdown: every service's `ShutdownSignal` fires, `run()` waits for them and
    /// then returns. Safe to call from any thread, any number of times, before or during `run()`.
    public nonisolated func shutdown() {
        stopRequested.trigger()
        doorbell.ring()
    }

    /// Adds a service. Before `run()` it starts with the others; while running it starts right away.
    ///
    /// - Throws: `SupervisorError.duplicateServiceName` if a service with the same name is running
    ///   (a removed one that is still draining does not count), `SupervisorError.shuttingDown` once
    ///   shutdown has begun.
    public func add(_ service: any Service) throws {
        let name = service.name
        switch state {
        case .shuttingDown, .finished:
            throw SupervisorError.shuttingDown(service: name)
        case .initial, .running:
            if stopRequested.isTriggered { throw SupervisorError.shuttingDown(service: name) }
        }
        guard activeChildID(named: name) == nil else {
            throw SupervisorError.duplicateServiceName(name)
        }
        let id = nextChildID
        nextChildID += 1
        children[id] = Self.makeChild(service, name: name, logger: logger)
        restartCounts[name] = 0
        logger.info("service added", ["service": name])
        if case .running = state {
            pendingStarts.append(id)
            doorbell.ring()
        }
    }

    /// Stops one service gracefully: its `ShutdownSignal` fires, it is not restarted, and its task is
    /// cancelled if it is still running `drainTimeout` + 1s later. Returns without waiting for it.
    /// Unknown names are ignored (the service may have finished on its own).
    public func remove(_ name: String) {
        guard let id = activeChildID(named: name), var child = children[id] else {
            logger.debug("remove: no running service with this name", ["service": name])
            return
        }
        switch state {
        case .initial:
            children[id] = nil
            logger.info("service removed", ["service": name])
        case .running:
            child.removed = true
            children[id] = child
            child.logger.info("stopping removed service")
            child.shutdown.trigger()
            if child.hasTask {
                pendingRemovalDeadlines.append(id)
                doorbell.ring()
            } else {
                // Added but not started yet: forget it.
                children[id] = nil
                pendingStarts.removeAll { $0 == id }
            }
        case .shuttingDown, .finished:
            // Every service is already being stopped, or none is left.
            return
        }
    }

    /// Changes the drain time (config reload). Services started from now on, removals and a later shutdown
    /// use it; a service already running keeps the drain time its context gave it.
    public func setDrainTimeout(_ timeout: Duration) {
        drainTimeout = timeout
    }

    /// How many times the service with this name was restarted since it was added (0 for unknown names).
    /// Still answers after the service ended, until a service with that name is added again.
    public func restartCount(of name: String) -> Int {
        restartCounts[name] ?? 0
    }

    /// Names of the services being supervised, in the order they were added. A removed service drops out
    /// at once, even while it drains; a finished one when it ends.
    public var serviceNames: [String] {
        children.filter { !$0.value.removed }.sorted { $0.key < $1.key }.map(\.value.name)
    }

    // MARK: - Run loop

    /// True once shutdown began and no service task is left; the run loop then stops.
    private var allStopped: Bool {
        guard case .shuttingDown = state else { return false }
        return !children.values.contains { $0.hasTask }
    }

    /// The one place where every task result is handled.
    private func handle(_ result: ChildTaskResult, in group: inout TaskGroup<ChildTaskResult>) {
        switch result {
        case let .serviceExited(id, exit):
            serviceExited(id, exit, in: &group)
        case .doorbellRang:
            processRequests(in: &group)
        case .drainDeadlinePassed:
            cancelRemaining(in: &group)
        case let .removalDeadlinePassed(id):
            cancelRemoved(id)
        case .timerCancelled:
            break
        }
    }

    private func serviceExited(_ id: ChildID, _ exit: ServiceExit, in group: inout TaskGroup<ChildTaskResult>) {
        guard var child = children[id] else { return }
        child.hasTask = false
        let stopping: Bool
        if case .running = state {
            stopping = child.removed
        } else {
            stopping = true
        }
        if !stopping, case .threw(let error) = exit {
            restartOrEscalate(id, child, error: error, in: &group)
            return
        }
        children[id] = nil
        switch exit {
        case .returned where child.forced:
            child.logger.warn("service stopped after its task was cancelled")
        case .returned where stopping:
            child.logger.info("service stopped")
        case .returned:
            child.logger.info("service finished on its own; not restarting it", ["attempt": child.attempt])
        case .threw(let error) where child.forced:
            child.logger.warn("service stopped after its task was cancelled", ["error": String(describing: error)])
        case .threw(let error):
            child.logger.warn("service failed while stopping; not restarting it", ["error": String(describing: error)])
        case .stoppedDuringBackoff:
            child.logger.info("service stopped while waiting to restart")
        }
    }

    private func restartOrEscalate(_ id: ChildID, _ child: Child, error: any Error,
                                   in group: inout TaskGroup<ChildTaskResult>) {
        var child = child
        let now = ContinuousClock.now
        child.recentRestarts.removeAll { now - $0 >= policy.window }
        let recent = child.recentRestarts.count
        let errorText = String(describing: error)
        if recent >= policy.maxRestarts {
            children[id] = nil
            child.logger.error("service keeps failing; stopping all services", [
                "error": errorText, "attempt": child.attempt, "restarts": recent,
                "window": policy.window.compactDescription,
            ])
            let escalation = SupervisorError.restartIntensityExceeded(
                service: child.name, restarts: recent, window: policy.window, lastError: errorText)
            beginShutdown(.escalated(escalation), in: &group)
            return
        }
        let backoff = policy.backoff(restartsInWindow: recent)
        child.logger.warn("service failed; restarting after backoff", [
            "error": errorText, "attempt": child.attempt, "backoff": backoff.compactDescription,
        ])
        child.recentRestarts.append(now)
        child.attempt += 1
        children[id] = child
        restartCounts[child.name, default: 0] += 1
        launch(id, after: backoff, in: &group)
    }

    /// Starts services added and arms deadlines for services removed since the last ring.
    private func processRequests(in group: inout TaskGroup<ChildTaskResult>) {
        guard case .running = state else {
            // Shutting down: the doorbell is not needed any more (this ring was `shutdown()`, or the
            // doorbell task was cancelled at the end).
            return
        }
        for id in pendingStarts {
            launch(id, after: nil, in: &group)
        }
        pendingStarts = []
        for id in pendingRemovalDeadlines where children[id]?.hasTask == true {
            let deadline = drainTimeout + Self.forcedCancelGrace
            group.addTask { await Self.timer(deadline, then: .removalDeadlinePassed(id)) }
        }
        pendingRemovalDeadlines = []
        armDoorbell(in: &group)
    }

    /// Tells every service to stop and arms the deadline after which the rest are cancelled.
    private func beginShutdown(_ cause: ShutdownCause, in group: inout TaskGroup<ChildTaskResult>) {
        state = .shuttingDown(cause)
        for id in pendingStarts {
            children[id] = nil
        }
        pendingStarts = []
        pendingRemovalDeadlines = []
        for id in children.keys.sorted() {
            children[id]?.shutdown.trigger()
        }
        if children.values.contains(where: { $0.hasTask }) {
            let deadline = drainTimeout + Self.forcedCancelGrace
            group.addTask { await Self.timer(deadline, then: .drainDeadlinePassed) }
        }
    }

    /// Drain time is over: cancels every task of the group, so the services still running see
    /// `Task.isCancelled`.
    private func cancelRemaining(in group: inout TaskGroup<ChildTaskResult>) {
        guard case .shuttingDown = state else { return }
        let stuck = children.filter { $0.value.hasTask }.sorted { $0.key < $1.key }
        guard !stuck.isEmpty else { return }
        for (id, _) in stuck {
            children[id]?.forced = true
        }
        logger.warn("services did not stop within the drain timeout; cancelling them", [
            "services": stuck.map(\.value.name).joined(separator: ","),
            "drain_timeout": drainTimeout.compactDescription,
        ])
        group.cancelAll()
    }

    /// A removed service overran its drain time: cancels its task only.
    private func cancelRemoved(_ id: ChildID) {
        guard var child = children[id], child.removed, child.hasTask else { return }
        child.forced = true
        children[id] = child
        child.logger.warn("removed service did not stop within the drain timeout; cancelling it", [
            "drain_timeout": drainTimeout.compactDescription,
        ])
        child.kill.trigger()
    }

    // MARK: - Tasks

    /// Adds the task that runs one service, first waiting out `backoff` if it is a restart.
    private func launch(_ id: ChildID, after backoff: Duration?, in group: inout TaskGroup<ChildTaskResult>) {
        guard var child = children[id], !child.hasTask else { return }
        child.hasTask = true
        children[id] = child
        if backoff == nil {
            child.logger.debug("starting service", ["attempt": child.attempt])
        }
        let service = child.service
        let kill = child.kill
        let context = ServiceContext(shutdown: child.shutdown, drainTimeout: drainTimeout, logger: child.logger,
                                     attempt: child.attempt)
        group.addTask {
            await Self.runService(id, service, context: context, backoff: backoff, kill: kill)
        }
    }

    private func armDoorbell(in group: inout TaskGroup<ChildTaskResult>) {
        let doorbell = self.doorbell
        group.addTask {
            await doorbell.wait()
            return .doorbellRang
        }
    }

    private func activeChildID(named name: String) -> ChildID? {
        children.first { !$0.value.removed && $0.value.name == name }?.key
    }

    private static func makeChild(_ service: any Service, name: String, logger: Logger) -> Child {
        Child(service: service, name: name, logger: logger.with(["service": name]), shutdown: ShutdownSignal(),
              kill: ShutdownSignal())
    }

    /// Body of a service's task. Runs off the actor, so a busy service never delays the supervisor.
    private static func runService(_ id: ChildID, _ service: any Service, context: ServiceContext,
                                   backoff: Duration?, kill: ShutdownSignal) async -> ChildTaskResult {
        if let backoff {
            await sleep(for: backoff, unlessTriggered: context.shutdown)
            if context.shutdown.isTriggered || Task.isCancelled {
                return .serviceExited(id, .stoppedDuringBackoff)
            }
        }
        do {
            try await run(service, context: context, cancellingWhenTriggered: kill)
            return .serviceExited(id, .returned)
        } catch {
            return .serviceExited(id, .threw(error))
        }
    }

    /// Runs the service in a task of its own so `kill` can cancel just that task.
    private static func run(_ service: any Service, context: ServiceContext,
                            cancellingWhenTriggered kill: ShutdownSignal) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await service.run(context)
                return true
            }
            group.addTask {
                await kill.wait()
                return false
            }
            // `true`: the service returned, so stop watching `kill`. `false`: `kill` fired (or we were
            // cancelled), so cancel the service and keep waiting for it. A throw from the service
            // propagates, and the group cancels the watcher on the way out.
            while let serviceReturned = try await group.next() {
                group.cancelAll()
                if serviceReturned { return }
            }
        }
    }

    /// Sleeps for `duration`, returning early if `signal` fires or the task is cancelled.
    private static func sleep(for duration: Duration, unlessTriggered signal: ShutdownSignal) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await signal.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    /// A deadline: reports `result` after `duration`, or `.timerCancelled` if cancelled first.
    private static func timer(_ duration: Duration, then result: ChildTaskResult) async -> ChildTaskResult {
        do {
            try await Task.sleep(for: duration)
            return result
        } catch {
            return .timerCancelled
        }
    }
}
