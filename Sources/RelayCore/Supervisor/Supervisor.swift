/// Runs every long-lived component of the daemon as a child task of one task group, restarts the ones
/// that fail, and stops them all gracefully.
///
/// - A service that throws is restarted after an exponential backoff (see `RestartPolicy`). The backoff
///   is a timer task of its own, so it never blocks the supervisor or other services, and it ends early
///   when the service is asked to stop.
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
///
/// A thin actor around `SupervisorState`, where every rule above lives: the actor owns the task group, the
/// signals and the doorbell, turns each task result into an event, and carries out the actions that come
/// back.
public actor Supervisor {
    typealias ChildID = SupervisorState.ChildID
    typealias Action = SupervisorState.Action

    /// Everything a task of the group can report; the run loop turns each into one event.
    enum ChildTaskResult: Sendable {
        /// A service's task finished.
        case serviceExited(ChildID, SupervisorState.Exit)
        /// `add`, `remove` or `shutdown` left work for the run loop.
        case doorbellRang
        /// A failed service has waited out its backoff (or was told to stop meanwhile).
        case restartBackoffElapsed(ChildID)
        /// The drain time after a supervisor-wide shutdown is over; still-running services get cancelled.
        case drainDeadlinePassed
        /// The drain time of one removed service is over; it gets cancelled if it is still running.
        case removalDeadlinePassed(ChildID)
        /// A deadline timer was cancelled because everything finished before it; nothing to do.
        case timerCancelled
    }

    /// What the actor holds for one added service, beside what the state machine knows.
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
    }

    /// Slack on top of `drainTimeout` before tasks are cancelled, so a service that honours its drain
    /// time to the letter is not cut off by scheduling delay.
    static let forcedCancelGrace = SupervisorState.forcedCancelGrace

    /// The rules, the services' book-keeping and the lifecycle.
    private var state: SupervisorState
    /// Supervisor-level lines; services get a copy with `service=<name>`.
    private let logger: Logger
    /// Set by `shutdown()`, which is nonisolated; read by the run loop and by `run()` before it starts.
    private let stopRequested = ShutdownSignal()
    /// Wakes the run loop after `add`, `remove` or `shutdown`.
    private let doorbell = Doorbell()
    /// Every service the state machine knows, by id.
    private var children: [ChildID: Child] = [:]
    /// Set by the `finish` action: how `run()` ends.
    private var outcome: SupervisorState.Outcome?

    /// - Parameters:
    ///   - services: started, in this order, when `run()` begins. Duplicate names make `run()` throw
    ///     `SupervisorError.duplicateServiceName`.
    ///   - policy: restart and escalation rules.
    ///   - drainTimeout: how long a service may take to stop after its shutdown signal fires.
    ///   - logger: supervisor lines are logged here; each service gets a copy with `service=<name>`.
    public init(services: [any Service], policy: RestartPolicy = .init(), drainTimeout: Duration, logger: Logger) {
        self.logger = logger
        let names = services.map(\.name)
        let state = SupervisorState(names: names, policy: policy, drainTimeout: drainTimeout)
        var children: [ChildID: Child] = [:]
        for id in state.children.keys {
            children[id] = Self.makeChild(services[Int(id)], name: names[Int(id)], logger: logger)
        }
        self.state = state
        self.children = children
    }

    // MARK: - Public API

    /// Runs every service until a graceful shutdown completes (returns) or a service exceeds its restart
    /// intensity (throws `SupervisorError.restartIntensityExceeded` once the others have stopped).
    /// Returns at once if `shutdown()` was called before. May be called only once.
    public func run() async throws {
        let actions = state.start(stopRequested: stopRequested.isTriggered)
        if state.isRunning {
            logger.info("supervisor starting", ["services": serviceNames.joined(separator: ",")])
            await withTaskGroup(of: ChildTaskResult.self) { group in
                execute(actions, in: &group)
                armDoorbell(in: &group)
                while outcome == nil, let result = await group.next() {
                    if state.isRunning {
                        if stopRequested.isTriggered {
                            logger.info("shutdown requested", ["drain_timeout": DurationParser.format(state.drainTimeout)])
                            execute(state.shutdownRequested(), in: &group)
                        } else if Task.isCancelled {
                            // Every task of the group is cancelled with us; stop instead of restarting them
                            // (and instead of re-arming a doorbell that would return at once, forever).
                            logger.warn("supervisor task cancelled; stopping services")
                            execute(state.shutdownRequested(), in: &group)
                        }
                    }
                    handle(result, in: &group)
                }
                // Only helper tasks are left (the doorbell, deadline and backoff timers); they end on
                // cancellation.
                group.cancelAll()
            }
        } else {
            for action in actions { perform(action) }
        }

        guard let outcome else { preconditionFailure("the supervisor's run loop ended before its state finished") }
        switch outcome {
        case .stopped:
            logger.info("supervisor stopped")
        case .stoppedBeforeStart:
            logger.info("shutdown requested before the supervisor started; not starting services")
        case .escalated(let error):
            logger.info("supervisor stopped after escalation", ["error": error.description])
            throw error
        case .invalidServices(let error):
            throw error
        }
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
        // `shutdown()` cannot reach the state machine; until the run loop tells it, refuse here.
        if stopRequested.isTriggered { throw SupervisorError.shuttingDown(service: name) }
        let (id, actions) = try state.add(name)
        children[id] = Self.makeChild(service, name: name, logger: logger)
        logger.info("service added", ["service": name])
        for action in actions { perform(action) }
    }

    /// Stops one service gracefully: its `ShutdownSignal` fires, it is not restarted, and its task is
    /// cancelled if it is still running `drainTimeout` + 1s later. Returns without waiting for it.
    /// Unknown names are ignored (the service may have finished on its own).
    public func remove(_ name: String) {
        guard let actions = state.remove(name) else {
            logger.debug("remove: no running service with this name", ["service": name])
            return
        }
        for action in actions { perform(action) }
    }

    /// Changes the drain time (config reload). Services started from now on, removals and a later shutdown
    /// use it; a service already running keeps the drain time its context gave it.
    public func setDrainTimeout(_ timeout: Duration) {
        state.setDrainTimeout(timeout)
    }

    /// How many times the service with this name was restarted since it was added (0 for unknown names).
    /// Still answers after the service ended, until a service with that name is added again.
    public func restartCount(of name: String) -> Int {
        state.restartCount(of: name)
    }

    /// Names of the services being supervised, in the order they were added. A removed service drops out
    /// at once, even while it drains; a finished one when it ends.
    public var serviceNames: [String] {
        state.serviceNames
    }

    // MARK: - Run loop

    /// The one place where every task result becomes an event.
    private func handle(_ result: ChildTaskResult, in group: inout TaskGroup<ChildTaskResult>) {
        switch result {
        case let .serviceExited(id, exit):
            execute(state.childExited(id, exit, now: .now), in: &group)
        case .doorbellRang:
            execute(state.requestsPending(), in: &group)
            // Once shutdown began the doorbell is not needed any more (this ring was `shutdown()`, or the
            // doorbell task was cancelled at the end).
            if state.isRunning { armDoorbell(in: &group) }
        case let .restartBackoffElapsed(id):
            execute(state.restartBackoffElapsed(id), in: &group)
        case .drainDeadlinePassed:
            execute(state.drainDeadlinePassed(), in: &group)
        case let .removalDeadlinePassed(id):
            execute(state.removalDeadlinePassed(id), in: &group)
        case .timerCancelled:
            break
        }
    }

    /// Carries out `actions` in order; those that add or cancel tasks need the group.
    private func execute(_ actions: [Action], in group: inout TaskGroup<ChildTaskResult>) {
        for action in actions {
            switch action {
            case let .start(id, attempt):
                guard let child = children[id] else {
                    assertionFailure("the state machine started service \(id), which the actor does not hold")
                    continue
                }
                if attempt == 0 {
                    child.logger.debug("starting service", ["attempt": attempt])
                }
                let service = child.service
                let kill = child.kill
                let context = ServiceContext(shutdown: child.shutdown, drainTimeout: state.drainTimeout,
                                             logger: child.logger, attempt: attempt)
                group.addTask { await Self.runService(id, service, context: context, kill: kill) }
            case let .scheduleRestart(id, backoff, failedAttempt, error):
                guard let child = children[id] else { continue }
                child.logger.warn("service failed; restarting after backoff", [
                    "error": error, "attempt": failedAttempt, "backoff": DurationParser.format(backoff),
                ])
                let shutdown = child.shutdown
                group.addTask {
                    await Self.sleep(for: backoff, unlessTriggered: shutdown)
                    return .restartBackoffElapsed(id)
                }
            case let .armDrainDeadline(deadline):
                group.addTask { await Self.timer(deadline, then: .drainDeadlinePassed) }
            case let .armRemovalDeadline(id, deadline):
                group.addTask { await Self.timer(deadline, then: .removalDeadlinePassed(id)) }
            case let .cancelAll(stuck):
                logger.warn("services did not stop within the drain timeout; cancelling them", [
                    "services": stuck.compactMap { children[$0]?.name }.joined(separator: ","),
                    "drain_timeout": DurationParser.format(state.drainTimeout),
                ])
                group.cancelAll()
            case .escalate, .signalShutdown, .cancel, .forget, .wakeRunLoop, .finish:
                perform(action)
            }
        }
    }

    /// Carries out one action that needs no task group (all that `add` and `remove` return).
    private func perform(_ action: Action) {
        switch action {
        case let .escalate(id, error, attempt):
            guard let child = children.removeValue(forKey: id),
                  case let .restartIntensityExceeded(_, restarts, window, lastError) = error else { return }
            child.logger.error("service keeps failing; stopping all services", [
                "error": lastError, "attempt": attempt, "restarts": restarts, "window": DurationParser.format(window),
            ])
        case let .signalShutdown(id, reason):
            guard let child = children[id] else { return }
            if reason == .removed { child.logger.info("stopping removed service") }
            child.shutdown.trigger()
        case let .cancel(id):
            guard let child = children[id] else { return }
            child.logger.warn("removed service did not stop within the drain timeout; cancelling it", [
                "drain_timeout": DurationParser.format(state.drainTimeout),
            ])
            child.kill.trigger()
        case let .forget(id, end):
            guard let child = children.removeValue(forKey: id) else { return }
            log(end, of: child)
        case .wakeRunLoop:
            doorbell.ring()
        case let .finish(outcome):
            self.outcome = outcome
        case .start, .scheduleRestart, .armDrainDeadline, .armRemovalDeadline, .cancelAll:
            preconditionFailure("\(action) needs the run loop's task group")
        }
    }

    /// The line that says how a service ended.
    private func log(_ end: SupervisorState.End, of child: Child) {
        switch end {
        case .removedBeforeRun:
            logger.info("service removed", ["service": child.name])
        case .neverStarted:
            break
        case let .finishedOnItsOwn(attempt):
            child.logger.info("service finished on its own; not restarting it", ["attempt": attempt])
        case .stopped:
            child.logger.info("service stopped")
        case let .failedWhileStopping(error):
            child.logger.warn("service failed while stopping; not restarting it", ["error": error])
        case .stoppedAfterCancellation(nil):
            child.logger.warn("service stopped after its task was cancelled")
        case let .stoppedAfterCancellation(error?):
            child.logger.warn("service stopped after its task was cancelled", ["error": error])
        case .stoppedDuringBackoff:
            child.logger.info("service stopped while waiting to restart")
        }
    }

    // MARK: - Tasks

    private func armDoorbell(in group: inout TaskGroup<ChildTaskResult>) {
        let doorbell = self.doorbell
        group.addTask {
            await doorbell.wait()
            return .doorbellRang
        }
    }

    private static func makeChild(_ service: any Service, name: String, logger: Logger) -> Child {
        Child(service: service, name: name, logger: logger.module("supervisor").with(["service": name]), shutdown: ShutdownSignal(),
              kill: ShutdownSignal())
    }

    /// Body of a service's task. Runs off the actor, so a busy service never delays the supervisor.
    private static func runService(_ id: ChildID, _ service: any Service, context: ServiceContext,
                                   kill: ShutdownSignal) async -> ChildTaskResult {
        do {
            try await run(service, context: context, cancellingWhenTriggered: kill)
            return .serviceExited(id, .returned)
        } catch {
            return .serviceExited(id, .threw(String(describing: error)))
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
