/// Picks one backend group's active set from the Scoreboard's scores and publishes it for the hot path.
///
/// A thin actor around `SelectorState`, where all the rules live. It has no timer: the caller runs the
/// loop, calling `evaluate` every `evaluationInterval` and `evict` for each server the Scoreboard reports
/// on `hardFailures`. Each switch is published as a new `ActiveSet` on `publisher`, which the hot path
/// reads without awaiting anything.
///
/// Unknown servers (nothing measured yet) are handed to the state machine as not eligible. An empty active
/// set means "no server is eligible": the caller tries every server of the group.
public actor Selector {
    /// The rules and the current set.
    private var state: SelectorState
    /// Where each new set is published; the hot path reads `publisher.current`.
    public nonisolated let publisher: ActiveSetPublisher
    /// Logs switches (info) and kept sets (debug).
    private let logger: Logger
    /// Evictions started so far. `evaluate` re-reads the scores when one started while it was awaiting
    /// them, so a stale snapshot can never put an evicted server back.
    private var evictionsStarted = 0

    public init(parameters: SelectorParameters = SelectorParameters(),
                publisher: ActiveSetPublisher = ActiveSetPublisher(), logger: Logger = .disabled) {
        state = SelectorState(parameters: parameters)
        self.publisher = publisher
        self.logger = logger
    }

    /// Continues another group's selection under new rules (config reload): see
    /// `SelectorState.init(parameters:continuing:servers:)`. The kept set is published at once.
    public init(parameters: SelectorParameters, continuing previous: SelectorState, servers: Set<ServerHandle>,
                logger: Logger = .disabled) {
        let state = SelectorState(parameters: parameters, continuing: previous, servers: servers)
        self.state = state
        self.publisher = ActiveSetPublisher(state.current.isEmpty ? .empty
                                            : ActiveSet(servers: state.current, generation: state.generation))
        self.logger = logger
    }

    /// The set last published.
    public nonisolated var current: ActiveSet { publisher.current }

    /// The rules and the set, for a successor to continue from.
    public var snapshot: SelectorState { state }

    /// Switches so far.
    public var switches: Int { state.switchCount }

    /// Re-ranks the servers with their current scores and switches the active set if the rules allow.
    @discardableResult
    public func evaluate(scoreboard: Scoreboard, now: ContinuousClock.Instant = .now) async
        -> SelectorState.Decision
    {
        var snapshot: Snapshot
        var evictionsBefore: Int
        repeat {
            evictionsBefore = evictionsStarted
            snapshot = Snapshot(await scoreboard.breakdowns())
        } while evictionsStarted != evictionsBefore
        let decision = state.evaluate(candidates: snapshot.candidates, now: now, downReasons: snapshot.downReasons)
        apply(decision)
        return decision
    }

    /// Removes a server that just failed hard, at once, and fills its slot.
    @discardableResult
    public func evict(_ server: ServerHandle, scoreboard: Scoreboard, now: ContinuousClock.Instant = .now) async
        -> SelectorState.Decision
    {
        evictionsStarted += 1
        let snapshot = Snapshot(await scoreboard.breakdowns())
        let cause = snapshot.downReasons[server] ?? (snapshot.registered.contains(server) ? nil : "removed")
        let decision = state.evict(server, now: now, candidates: snapshot.candidates, cause: cause)
        apply(decision)
        return decision
    }

    private func apply(_ decision: SelectorState.Decision) {
        switch decision {
        case .keep(let reason):
            logger.debug("active set kept", ["reason": reason])
        case .switched(let old, let new, let reason):
            publisher.publish(ActiveSet(servers: new, generation: state.generation))
            logger.info("active set switched", [
                "old": old.map(\.id).joined(separator: ","), "new": new.map(\.id).joined(separator: ","),
                "reason": reason, "generation": state.generation,
            ])
        }
    }

    /// The Scoreboard's view turned into the state machine's input.
    private struct Snapshot {
        /// Every registered server with its score; unknown servers count as not healthy, so never eligible.
        var candidates: [SelectorState.Candidate] = []
        /// Why each down server is down, for the reasons in log lines.
        var downReasons: [ServerHandle: String] = [:]
        /// The registered servers.
        var registered: Set<ServerHandle> = []

        init(_ breakdowns: [(ServerHandle, ScoreBreakdown)]) {
            for (server, breakdown) in breakdowns {
                let drained = server.drained.load(ordering: .relaxed)
                candidates.append((server, score: breakdown.total,
                                   healthy: breakdown.healthy && breakdown.measured && !drained))
                registered.insert(server)
                if let reason = drained ? "drained by an operator"
                    : breakdown.downReason ?? (breakdown.measured ? nil : "not measured") {
                    downReasons[server] = reason
                }
            }
        }
    }
}
