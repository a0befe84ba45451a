/// The supervisor's rules: which service runs, which is restarted and after how long, when a failure
/// escalates, and when a shutdown is over.
///
/// A pure state machine; the clock is injected as `now` on the one event that reads it (a service that
/// threw), so it is tested synchronously. The `Supervisor` actor wraps it: it turns each task result into an
/// event, and carries out the `Action`s that come back (tasks, timers, signals, log lines). Timers are the
/// shell's: an action says "report this event after that long", and the event comes back when it is due.
///
/// **Restarts.** A service that throws while the supervisor runs (and was not removed) is restarted after
/// `policy.backoff(restartsInWindow:)`, where the count is of its restarts less than `policy.window` old. A
/// service that would need more than `policy.maxRestarts` of them escalates: it is forgotten, every other
/// service is told to stop, and the run finishes with `SupervisorError.restartIntensityExceeded`.
/// A service that returns on its own, or that ends while stopping, is done.
///
/// **Stopping.** A shutdown (requested, or caused by an escalation) tells every service to stop, forgets the
/// ones waiting out a backoff or not started yet, and arms a deadline of `drainTimeout` + `forcedCancelGrace`
/// after which every task still running is cancelled. A removal does the same for one service, with a
/// deadline of its own. The run finishes when shutdown began and no service runs any more.
struct SupervisorState: Sendable {
    /// Identifies one added service for its whole life, across restarts. Names can come back after a
    /// removal; ids never do, so a late result from a removed service is never mistaken for its successor.
    typealias ChildID = UInt64

    /// Lifecycle of the supervisor; it only moves forward.
    enum Lifecycle: Equatable, Sendable {
        /// Constructed; services may be added or removed, nothing runs yet.
        case initial
        /// Supervising: failed services are restarted, new ones started.
        case running
        /// Every service has been told to stop; nothing is restarted or started any more.
        case shuttingDown(ShutdownCause)
        /// The run is over (or never began: invalid services, or shutdown before the start).
        case finished
    }

    /// Why the supervisor is shutting down, which decides how the run finishes.
    enum ShutdownCause: Equatable, Sendable {
        /// Shutdown was requested (or the supervisor's task was cancelled).
        case requested
        /// A service exceeded its restart intensity; the run throws this error once everything stopped.
        case escalated(SupervisorError)
    }

    /// How one run of a service ended, as the shell saw it.
    enum Exit: Equatable, Sendable {
        /// `run(_:)` returned.
        case returned
        /// `run(_:)` threw; the error as text (it goes into log lines and the escalation error).
        case threw(String)
    }

    /// Why the shell tells a service to stop, which decides the log line.
    enum StopReason: Equatable, Sendable {
        /// `remove(_:)` took the service out.
        case removed
        /// The whole supervisor is shutting down.
        case supervisorStopping
    }

    /// How a service ended for good; the shell logs it and forgets the service.
    enum End: Equatable, Sendable {
        /// Removed before the run began.
        case removedBeforeRun
        /// Added while running but removed, or caught by shutdown, before it started: nothing to say.
        case neverStarted
        /// It returned while nobody had asked it to stop; it is not restarted.
        case finishedOnItsOwn(attempt: Int)
        /// It returned after being asked to stop.
        case stopped
        /// It threw after being asked to stop; it is not restarted.
        case failedWhileStopping(error: String)
        /// It ended after its task was cancelled for overrunning its drain time (with the error it threw, if
        /// any).
        case stoppedAfterCancellation(error: String?)
        /// It was asked to stop while waiting out a restart backoff, so it was not started again.
        case stoppedDuringBackoff
    }

    /// How the whole run ends.
    enum Outcome: Equatable, Sendable {
        /// Every service stopped after a shutdown request.
        case stopped
        /// Shutdown was requested before the run began; no service was started.
        case stoppedBeforeStart
        /// A service exceeded its restart intensity and everything else has stopped: the run throws this.
        case escalated(SupervisorError)
        /// The services given at construction were invalid (a duplicate name): the run throws this at once.
        case invalidServices(SupervisorError)
    }

    /// What the shell must do after an event, in order.
    enum Action: Equatable, Sendable {
        /// Runs the service now, its context saying `attempt`.
        case start(ChildID, attempt: Int)
        /// The service failed on `failedAttempt` with `error`: report `restartBackoffElapsed` after `backoff`
        /// (or earlier, when the service is told to stop), and it will be started again.
        case scheduleRestart(ChildID, after: Duration, failedAttempt: Int, error: String)
        /// The service failed once too often (on `attempt`); the shutdown that follows finishes with `error`.
        case escalate(ChildID, SupervisorError, attempt: Int)
        /// Fires the service's shutdown signal.
        case signalShutdown(ChildID, StopReason)
        /// Report `drainDeadlinePassed` after this long.
        case armDrainDeadline(after: Duration)
        /// Report `removalDeadlinePassed` for the service after this long.
        case armRemovalDeadline(ChildID, after: Duration)
        /// Drain time is over: cancels every task, so the services still running (`stuck`, in the order
        /// they were added) see `Task.isCancelled`.
        case cancelAll(stuck: [ChildID])
        /// A removed service overran its drain time: cancels its task only.
        case cancel(ChildID)
        /// The service is gone for good: forget it, logging how it ended.
        case forget(ChildID, End)
        /// `add` or `remove` left work for the run loop: wake it so it sends `requestsPending`.
        case wakeRunLoop
        /// The run is over.
        case finish(Outcome)
    }

    /// What the state machine knows about one added service.
    struct Child: Equatable, Sendable {
        /// Where a child is between start and end.
        enum Phase: Equatable, Sendable {
            /// Not started: before the run, or added while running and waiting for the run loop.
            case notStarted
            /// Its task is running the service.
            case running
            /// It failed and waits out a restart backoff; no task runs it.
            case waitingToRestart
        }

        /// `service.name`, read once so it cannot change under us.
        let name: String
        /// Number of the current (or next) run: 0 first, n after n restarts.
        var attempt = 0
        /// When each restart inside the current window happened, oldest first; drives both the backoff
        /// exponent and escalation.
        var recentRestarts: [ContinuousClock.Instant] = []
        /// Where it is in its life.
        var phase = Phase.notStarted
        /// Set by `remove(_:)`: the service is stopping and must not be restarted.
        var removed = false
        /// Set once the deadline of its removal is armed, so it is armed once.
        var removalDeadlineArmed = false
        /// Set when its task was cancelled for overrunning the drain time, so its end is logged as forced.
        var forced = false
    }

    /// Slack on top of `drainTimeout` before tasks are cancelled, so a service that honours its drain
    /// time to the letter is not cut off by scheduling delay.
    static let forcedCancelGrace: Duration = .seconds(1)

    /// Restart and escalation rules, shared by every service.
    let policy: RestartPolicy
    /// How long a service may take to stop; the basis of both deadlines.
    private(set) var drainTimeout: Duration
    /// Where the supervisor is in its life.
    private(set) var lifecycle = Lifecycle.initial
    /// Every service that has not ended yet, including removed ones still draining.
    private(set) var children: [ChildID: Child] = [:]
    /// Next id to hand out; ids grow, so sorting by id gives the order services were added in.
    private var nextChildID: ChildID = 0
    /// Restarts per service name since that name was (last) added, kept after the service ends so tests
    /// and metrics can still read it.
    private var restartCounts: [String: Int] = [:]
    /// A problem with the services given to `init` (which cannot throw); `start` finishes with it.
    private(set) var configurationError: SupervisorError?

    /// `names` are the services given at construction, in order: the i-th gets id i. A duplicate name is
    /// left out and makes `start` finish with `SupervisorError.duplicateServiceName`.
    init(names: [String], policy: RestartPolicy, drainTimeout: Duration) {
        self.policy = policy
        self.drainTimeout = drainTimeout
        var seen: Set<String> = []
        for (index, name) in names.enumerated() {
            guard seen.insert(name).inserted else {
                if configurationError == nil { configurationError = .duplicateServiceName(name) }
                continue
            }
            children[ChildID(index)] = Child(name: name)
        }
        nextChildID = ChildID(names.count)
        restartCounts = Dictionary(uniqueKeysWithValues: seen.map { ($0, 0) })
    }

    // MARK: - Queries

    /// Whether the supervisor is running (not before, not shutting down).
    var isRunning: Bool { lifecycle == .running }

    /// How many times the service with this name was restarted since it was added (0 for unknown names).
    func restartCount(of name: String) -> Int {
        restartCounts[name] ?? 0
    }

    /// Names of the services being supervised, in the order they were added. A removed service drops out
    /// at once, even while it drains; a finished one when it ends.
    var serviceNames: [String] {
        children.filter { !$0.value.removed }.sorted { $0.key < $1.key }.map(\.value.name)
    }

    /// The id of the service with this name that is not removed.
    func activeChildID(named name: String) -> ChildID? {
        children.first { !$0.value.removed && $0.value.name == name }?.key
    }

    // MARK: - Events

    /// The run begins. Finishes at once when the services are invalid or `stopRequested` (shutdown was asked
    /// for before the run); otherwise starts every service in the order added.
    mutating func start(stopRequested: Bool) -> [Action] {
        precondition(lifecycle == .initial, "Supervisor.run() may only be called once")
        if let configurationError {
            lifecycle = .finished
            return [.finish(.invalidServices(configurationError))]
        }
        if stopRequested {
            lifecycle = .finished
            let ids = children.keys.sorted()
            children = [:]
            return ids.map { .forget($0, .neverStarted) } + [.finish(.stoppedBeforeStart)]
        }
        lifecycle = .running
        return children.keys.sorted().map { id in
            children[id]!.phase = .running
            return .start(id, attempt: children[id]!.attempt)
        }
    }

    /// A service is added. Before the run it starts with the others; while running the run loop starts it.
    ///
    /// - Throws: `SupervisorError.shuttingDown` once shutdown began (or the run ended),
    ///   `SupervisorError.duplicateServiceName` if a service with this name is supervised (a removed one that
    ///   still drains does not count).
    mutating func add(_ name: String) throws(SupervisorError) -> (ChildID, [Action]) {
        switch lifecycle {
        case .shuttingDown, .finished:
            throw .shuttingDown(service: name)
        case .initial, .running:
            break
        }
        guard activeChildID(named: name) == nil else { throw .duplicateServiceName(name) }
        let id = nextChildID
        nextChildID += 1
        children[id] = Child(name: name)
        restartCounts[name] = 0
        return (id, isRunning ? [.wakeRunLoop] : [])
    }

    /// A service is removed: it is told to stop and never restarted. Before the run, or if it was not
    /// running yet (not started, or waiting out a backoff), it is forgotten at once; while it runs, the run
    /// loop arms its drain deadline. Returns nil when no supervised service has this name; nothing to do
    /// once shutdown began (every service is stopping already).
    mutating func remove(_ name: String) -> [Action]? {
        guard let id = activeChildID(named: name), let child = children[id] else { return nil }
        switch lifecycle {
        case .initial:
            children[id] = nil
            return [.forget(id, .removedBeforeRun)]
        case .running:
            children[id]!.removed = true
            switch child.phase {
            case .running:
                return [.signalShutdown(id, .removed), .wakeRunLoop]
            case .notStarted:
                children[id] = nil
                return [.signalShutdown(id, .removed), .forget(id, .neverStarted)]
            case .waitingToRestart:
                children[id] = nil
                return [.signalShutdown(id, .removed), .forget(id, .stoppedDuringBackoff)]
            }
        case .shuttingDown, .finished:
            return []
        }
    }

    /// The drain time changes (config reload): services started from now on, removals and a later shutdown
    /// use it.
    mutating func setDrainTimeout(_ timeout: Duration) {
        drainTimeout = timeout
    }

    /// The run loop woke up after `wakeRunLoop`: starts the services added and arms the deadlines of the
    /// services removed since. Nothing to do once shutdown began.
    mutating func requestsPending() -> [Action] {
        guard isRunning else { return [] }
        let ids = children.keys.sorted()
        var actions: [Action] = []
        for id in ids where children[id]!.phase == .notStarted {
            children[id]!.phase = .running
            actions.append(.start(id, attempt: children[id]!.attempt))
        }
        for id in ids where children[id]!.removed && children[id]!.phase == .running
            && !children[id]!.removalDeadlineArmed {
            children[id]!.removalDeadlineArmed = true
            actions.append(.armRemovalDeadline(id, after: drainTimeout + Self.forcedCancelGrace))
        }
        return actions
    }

    /// A service's task ended at `now`. One that threw while the supervisor runs (and was not removed) is
    /// restarted, or escalates; any other is forgotten.
    mutating func childExited(_ id: ChildID, _ exit: Exit, now: ContinuousClock.Instant) -> [Action] {
        guard let child = children[id], child.phase == .running else { return [] }
        let stopping = !isRunning || child.removed
        if !stopping, case .threw(let error) = exit {
            return restartOrEscalate(id, error: error, now: now)
        }
        children[id] = nil
        let end: End = switch exit {
        case .returned where child.forced: .stoppedAfterCancellation(error: nil)
        case .returned where stopping: .stopped
        case .returned: .finishedOnItsOwn(attempt: child.attempt)
        case .threw(let error) where child.forced: .stoppedAfterCancellation(error: error)
        case .threw(let error): .failedWhileStopping(error: error)
        }
        return [.forget(id, end)] + finishIfDone()
    }

    /// A restart backoff is over: the service starts again, unless it was removed or shutdown began
    /// meanwhile (then it was forgotten already, and this is a late report).
    mutating func restartBackoffElapsed(_ id: ChildID) -> [Action] {
        guard isRunning, let child = children[id], child.phase == .waitingToRestart, !child.removed else {
            return []
        }
        children[id]!.phase = .running
        return [.start(id, attempt: child.attempt)]
    }

    /// Shutdown was requested (or the supervisor's task was cancelled) while running: see `beginShutdown`.
    mutating func shutdownRequested() -> [Action] {
        guard isRunning else { return [] }
        return beginShutdown(.requested)
    }

    /// The drain time after a shutdown is over: every task still running is cancelled.
    mutating func drainDeadlinePassed() -> [Action] {
        guard case .shuttingDown = lifecycle else { return [] }
        let stuck = children.filter { $0.value.phase == .running }.keys.sorted()
        guard !stuck.isEmpty else { return [] }
        for id in stuck {
            children[id]!.forced = true
        }
        return [.cancelAll(stuck: stuck)]
    }

    /// The drain time of one removed service is over: its task is cancelled if it still runs.
    mutating func removalDeadlinePassed(_ id: ChildID) -> [Action] {
        guard let child = children[id], child.removed, child.phase == .running else { return [] }
        children[id]!.forced = true
        return [.cancel(id)]
    }

    // MARK: - Rules

    private mutating func restartOrEscalate(_ id: ChildID, error: String, now: ContinuousClock.Instant) -> [Action] {
        var child = children[id]!
        child.recentRestarts.removeAll { now - $0 >= policy.window }
        let recent = child.recentRestarts.count
        if recent >= policy.maxRestarts {
            children[id] = nil
            let escalation = SupervisorError.restartIntensityExceeded(
                service: child.name, restarts: recent, window: policy.window, lastError: error)
            return [.escalate(id, escalation, attempt: child.attempt)] + beginShutdown(.escalated(escalation))
        }
        let backoff = policy.backoff(restartsInWindow: recent)
        let failedAttempt = child.attempt
        child.recentRestarts.append(now)
        child.attempt += 1
        child.phase = .waitingToRestart
        children[id] = child
        restartCounts[child.name, default: 0] += 1
        return [.scheduleRestart(id, after: backoff, failedAttempt: failedAttempt, error: error)]
    }

    /// Tells every service to stop (in the order they were added), forgets those that are not running, and
    /// arms the deadline after which the rest are cancelled.
    private mutating func beginShutdown(_ cause: ShutdownCause) -> [Action] {
        lifecycle = .shuttingDown(cause)
        var actions: [Action] = []
        for id in children.keys.sorted() {
            switch children[id]!.phase {
            case .notStarted:
                children[id] = nil
                actions.append(.forget(id, .neverStarted))
            case .waitingToRestart:
                children[id] = nil
                actions += [.signalShutdown(id, .supervisorStopping), .forget(id, .stoppedDuringBackoff)]
            case .running:
                actions.append(.signalShutdown(id, .supervisorStopping))
            }
        }
        if children.values.contains(where: { $0.phase == .running }) {
            actions.append(.armDrainDeadline(after: drainTimeout + Self.forcedCancelGrace))
        }
        return actions + finishIfDone()
    }

    /// Finishes the run once shutdown began and no service runs any more.
    private mutating func finishIfDone() -> [Action] {
        guard case .shuttingDown(let cause) = lifecycle,
              !children.values.contains(where: { $0.phase == .running }) else { return [] }
        lifecycle = .finished
        return switch cause {
        case .requested: [.finish(.stopped)]
        case .escalated(let error): [.finish(.escalated(error))]
        }
    }
}
