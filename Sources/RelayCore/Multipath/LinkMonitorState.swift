import RelayIO
import RelayProtocol

/// The multipath client's link choice: heartbeats on every link, their RTT, loss and throughput, the score that
/// ranks them, the active link, and when to duplicate frames. A pure state machine; the LinkMonitor actor feeds
/// it events with the monotonic clock in nanoseconds, performs the actions it returns and publishes `snapshot`.
///
/// **Measuring.** Every link gets a heartbeat each `heartbeat_interval`. An answer gives an RTT sample (RFC 6298
/// smoothing: 7/8 and 3/4) and counts as delivered in the link's loss window of the last `loss_window`
/// heartbeats. A heartbeat unanswered at its deadline counts as lost; the deadline is the link's retransmission
/// timeout (smoothed + 4 × variance) but at least one interval and at most `heartbeat_timeout`, which is also the
/// deadline before the first answer. An answer after the deadline still measures the RTT and shows the link
/// alive (it resets the run of misses), but the loss stays counted. Throughput is the bytes through the link
/// over the last second, from the cumulative counts `recordTraffic` is given.
///
/// **Score** (lower is better): loss_weight × loss% + rtt_weight × smoothed RTT in ms + priority. That is the
/// seed's formula, `−(loss_weight·loss% + rtt_weight·rtt) − priority` where higher won, with its sign flipped; a
/// link has no score before its first answer.
///
/// **Switching**, evaluated after every event:
/// 1. *Failover.* `max_consecutive_fail` misses in a row mark a link down. If it is the active link, traffic
///    moves in the same event to the best link that is not down, whatever the threshold or the throughput. The
///    same happens when the active link has never answered, has missed a heartbeat, and another link is up (a
///    dead first choice at start), and when the active link is down and another link comes up.
/// 2. *Better score.* A link whose score is lower than the active link's by at least `switch_threshold` takes
///    over, but only while the active link carries less than `throughput_threshold_kbps`: a busy link is not
///    switched away from for a better score (the seed's throughput guard). A held switch is reported once and
///    happens at the first event where traffic is below the threshold and the gain still holds.
/// 3. Otherwise the active link stays. Ranking: links with a score, lowest first, then links without one; ties
///    by priority, then configuration order. The first active link is the first by priority and order.
///
/// **Redundancy.** `off`: the active link only. `always`: every link that is not down. `adaptive` (default): the
/// active link and the best other link while the active link's loss is above `redundancy_loss_threshold`, while
/// its last heartbeat went unanswered, or until `heartbeat_timeout` after a failover or after the start (when no
/// loss is measured yet); the active link alone otherwise.
///
/// Unlike the seed, failover takes effect in the event that detects it (the seed waits for the next heartbeat
/// round), and no value of a knob panics (`MultipathParameters.validate` names the key).
public struct LinkMonitorState: Sendable {
    /// The knobs.
    public let parameters: MultipathParameters
    /// The links, in configuration order; their index is the link number in actions and frames.
    private(set) var links: [MonitoredLink]
    /// The link traffic goes on.
    public private(set) var activeLink: Int?
    /// The links each DATA frame is sent on, the active link first.
    public private(set) var sendTargets: [Int] = []
    /// Grows whenever `sendTargets` (and so the active link or the reply fanout) changes.
    public private(set) var generation: UInt64 = 0
    /// Switches of the active link so far.
    public private(set) var switchCount = 0
    /// Answers that matched no heartbeat waiting for one (duplicated, or after `heartbeat_timeout`).
    public private(set) var unmatchedAnswers = 0
    /// Until when adaptive redundancy stays on after a failover.
    private(set) var failoverRedundancyUntil: UInt64?
    /// The link a held switch would go to, so that the hold is reported once.
    private var heldTarget: Int?
    /// When link names are next resolved again.
    private var nextResolveAt: UInt64
    /// `heartbeat_interval`, `heartbeat_timeout` and `dns_refresh` in nanoseconds.
    private let interval: UInt64, timeout: UInt64, dnsRefresh: UInt64

    /// A monitor of `links` (at least one, at most 255) under valid `parameters`, started at `now`: the first
    /// heartbeats are due at once, and traffic starts on the first link by priority and order.
    public init(parameters: MultipathParameters, links specs: [MultipathLinkSpec], now: UInt64) {
        precondition(parameters.validate().isEmpty, "invalid multipath parameters: \(parameters.validate())")
        precondition(MultipathParameters.validate(links: specs).isEmpty, "invalid links")
        self.parameters = parameters
        interval = parameters.heartbeatInterval.nanosecondsClamped
        timeout = parameters.heartbeatTimeout.nanosecondsClamped
        dnsRefresh = parameters.dnsRefresh.nanosecondsClamped
        links = specs.map { MonitoredLink(spec: $0, lossWindow: parameters.lossWindow, now: now) }
        nextResolveAt = Self.adding(now, dnsRefresh)
        activeLink = ranked().first
        // Nothing is measured yet: the start is treated like a failover, so that adaptive redundancy covers the
        // first heartbeat_timeout instead of trusting a link whose loss it cannot know before then.
        failoverRedundancyUntil = Self.adding(now, timeout)
        var ignored: [LinkMonitorAction] = []
        updateRoute(now: now, actions: &ignored)
    }

    // MARK: - Events

    /// Counts the heartbeats whose deadline has passed, sends those that are due, schedules name resolution,
    /// ends the post-failover redundancy, and re-evaluates. Call it at `nextWakeup` (earlier is harmless).
    public mutating func tick(now: UInt64) -> [LinkMonitorAction] {
        var actions: [LinkMonitorAction] = []
        for index in links.indices {
            countMisses(index, now: now, actions: &actions)
        }
        for index in links.indices where links[index].nextHeartbeatAt <= now {
            sendHeartbeat(index, now: now, actions: &actions)
        }
        if now >= nextResolveAt {
            actions += links.indices.map { .resolve(link: $0) }
            while nextResolveAt <= now { nextResolveAt = Self.adding(nextResolveAt, dnsRefresh) }
        }
        if let until = failoverRedundancyUntil, now >= until { failoverRedundancyUntil = nil }
        evaluate(now: now, actions: &actions)
        return actions
    }

    /// The server answered the heartbeat sent on `link` at `echoedTimestamp`. An answer that matches no
    /// heartbeat still waiting is counted in `unmatchedAnswers` and otherwise ignored.
    public mutating func heartbeatAnswered(link: Int, echoedTimestamp: UInt64, now: UInt64) -> [LinkMonitorAction] {
        guard links.indices.contains(link), now >= echoedTimestamp,
              let position = links[link].outstanding.firstIndex(where: { $0.sentAt == echoedTimestamp })
        else {
            unmatchedAnswers += 1
            return []
        }
        var actions: [LinkMonitorAction] = []
        let heartbeat = links[link].outstanding.remove(at: position)
        links[link].sampleRTT(Double(now - echoedTimestamp))
        if heartbeat.countedLost {
            links[link].lateAnswers += 1
        } else {
            links[link].losses.record(lost: false)
            links[link].answered += 1
        }
        links[link].consecutiveMisses = 0
        if links[link].health != .up {
            links[link].health = .up
            actions.append(.linkUp(link: link))
        }
        evaluate(now: now, actions: &actions)
        return actions
    }

    /// `totalBytes` have gone through `link` so far, both ways (a cumulative counter the I/O side keeps with
    /// atomics; pass it at every tick). Each time a second or more has passed since the last measurement, the
    /// link's throughput becomes the bytes since then over that time; a counter that went backwards starts over.
    public mutating func recordTraffic(link: Int, totalBytes: UInt64, now: UInt64) -> [LinkMonitorAction] {
        guard links.indices.contains(link) else { return [] }
        if let start = links[link].meterStartTime, now >= start {
            let elapsed = now - start
            if totalBytes < links[link].meterStartBytes {
                links[link].bytesPerSecond = 0
            } else if elapsed >= 1_000_000_000 {
                let bytes = totalBytes - links[link].meterStartBytes
                links[link].bytesPerSecond = Double(bytes) * 1e9 / Double(elapsed)
            } else {
                return []
            }
        }
        links[link].meterStartTime = now
        links[link].meterStartBytes = totalBytes
        var actions: [LinkMonitorAction] = []
        evaluate(now: now, actions: &actions)
        return actions
    }

    /// `link`'s name resolved to a new address: its measurements no longer apply. It probes again from `now`,
    /// and keeps traffic if it had it (it is not down).
    public mutating func addressChanged(link: Int, now: UInt64) -> [LinkMonitorAction] {
        guard links.indices.contains(link) else { return [] }
        links[link].resetMeasurements(lossWindow: parameters.lossWindow, now: now)
        var actions: [LinkMonitorAction] = []
        evaluate(now: now, actions: &actions)
        return actions
    }

    // MARK: - Reading

    /// When `tick` is next needed: the next heartbeat, loss deadline, end of post-failover redundancy or name
    /// refresh, whichever comes first.
    public var nextWakeup: UInt64 {
        var next = nextResolveAt
        for link in links {
            next = min(next, link.nextHeartbeatAt)
            for heartbeat in link.outstanding where !heartbeat.countedLost {
                next = min(next, heartbeat.deadline)
            }
        }
        if let until = failoverRedundancyUntil { next = min(next, until) }
        return next
    }

    /// The link's score, lower is better; nil before its first answer.
    public func score(of link: Int) -> Double? {
        guard let smoothed = links[link].smoothedRTT else { return nil }
        return parameters.lossWeight * links[link].losses.lossPercent + parameters.rttWeight * smoothed / 1e6
            + links[link].spec.priority
    }

    /// How `link` measures now.
    public func status(of link: Int) -> LinkStatus {
        let measured = links[link]
        return LinkStatus(
            name: measured.spec.name, priority: measured.spec.priority, health: measured.health,
            isActive: activeLink == link, smoothedRTTMilliseconds: measured.smoothedRTT.map { $0 / 1e6 },
            rttVarianceMilliseconds: measured.rttVariance / 1e6, lossPercent: measured.losses.lossPercent,
            score: score(of: link), bytesPerSecond: measured.bytesPerSecond,
            consecutiveMisses: measured.consecutiveMisses, heartbeatsSent: measured.heartbeatsSent,
            answered: measured.answered, lost: measured.lost, lateAnswers: measured.lateAnswers)
    }

    /// What the actor publishes.
    public var snapshot: LinkMonitorSnapshot {
        LinkMonitorSnapshot(generation: generation, activeLink: activeLink, sendTargets: sendTargets,
                            replyFanout: replyFanout, links: links.indices.map(status(of:)))
    }

    /// What the client asks of the server's replies: one link, or as many as it sends on itself.
    public var replyFanout: MultipathReplyFanout {
        guard sendTargets.count > 1 else { return .oneLink }
        return parameters.redundancy == .always ? .everyLiveLink : .twoBestLinks
    }

    // MARK: - Rules

    /// Links that are not down, best first (see the type's documentation for the order).
    func ranked() -> [Int] {
        links.indices.filter { links[$0].health != .down }.sorted { a, b in
            switch (score(of: a), score(of: b)) {
            case (let x?, let y?) where x != y: return x < y
            case (.some, nil): return true
            case (nil, .some): return false
            default:
                if links[a].spec.priority != links[b].spec.priority {
                    return links[a].spec.priority < links[b].spec.priority
                }
                return a < b
            }
        }
    }

    /// Applies the switching rules, then recomputes the send targets.
    private mutating func evaluate(now: UInt64, actions: inout [LinkMonitorAction]) {
        defer { updateRoute(now: now, actions: &actions) }
        guard let current = activeLink else { return }
        let ranking = ranked()
        let currentLink = links[current]
        let deadFirstChoice = currentLink.health == .probing && currentLink.consecutiveMisses > 0
            && ranking.contains { links[$0].health == .up }
        if currentLink.health == .down || deadFirstChoice {
            heldTarget = nil
            if let best = ranking.first(where: { $0 != current }) {
                switchActive(to: best, reason: .failover, now: now, actions: &actions)
                failoverRedundancyUntil = Self.adding(now, timeout)
            }
            return
        }
        guard let currentScore = score(of: current), let best = ranking.first, best != current,
              let bestScore = score(of: best), currentScore - bestScore >= parameters.switchThreshold
        else {
            heldTarget = nil
            return
        }
        let gain = currentScore - bestScore
        let kbps = currentLink.bytesPerSecond * 8 / 1000
        if kbps < parameters.throughputThresholdKbps {
            heldTarget = nil
            switchActive(to: best, reason: .betterScore(gain: gain), now: now, actions: &actions)
        } else if heldTarget != best {
            heldTarget = best
            actions.append(.switchHeld(from: current, to: best, gain: gain, kbps: kbps))
        }
    }

    /// Makes `link` the active link.
    private mutating func switchActive(to link: Int, reason: LinkSwitchReason, now: UInt64,
                                       actions: inout [LinkMonitorAction]) {
        actions.append(.switchActive(from: activeLink, to: link, reason: reason))
        activeLink = link
        switchCount += 1
    }

    /// Recomputes the send targets; a change bumps the generation and is reported.
    private mutating func updateRoute(now: UInt64, actions: inout [LinkMonitorAction]) {
        var targets: [Int] = []
        if let active = activeLink {
            let others = ranked().filter { $0 != active }
            switch parameters.redundancy {
            case .off:
                targets = [active]
            case .always:
                targets = [active] + others
            case .adaptive:
                let lossy = links[active].losses.lossPercent > parameters.redundancyLossThreshold
                // A link that just missed a heartbeat may be dying: cover it until it answers again rather than
                // wait for the loss to climb over the threshold (a blackholed link reaches it only at its second
                // miss, one interval later, and a link failing hard loses everything meanwhile).
                let suspect = links[active].consecutiveMisses > 0
                let afterFailover = failoverRedundancyUntil.map { now < $0 } ?? false
                targets = lossy || suspect || afterFailover ? [active] + others.prefix(1) : [active]
            }
        }
        if targets != sendTargets {
            sendTargets = targets
            generation += 1
            actions.append(.sendTargetsChanged(targets: targets))
        }
    }

    /// Counts `link`'s heartbeats whose deadline has passed as lost, marks it down after
    /// `max_consecutive_fail` in a row, and forgets heartbeats older than `heartbeat_timeout`.
    private mutating func countMisses(_ index: Int, now: UInt64, actions: inout [LinkMonitorAction]) {
        for position in links[index].outstanding.indices {
            let heartbeat = links[index].outstanding[position]
            guard !heartbeat.countedLost, heartbeat.deadline <= now else { continue }
            links[index].outstanding[position].countedLost = true
            links[index].losses.record(lost: true)
            links[index].lost += 1
            links[index].consecutiveMisses += 1
            if links[index].consecutiveMisses >= parameters.maxConsecutiveFail, links[index].health != .down {
                links[index].health = .down
                actions.append(.linkDown(link: index, misses: links[index].consecutiveMisses))
                actions.append(.resolve(link: index))
            }
        }
        links[index].outstanding.removeAll { Self.adding($0.sentAt, timeout) <= now }
    }

    /// Sends `link`'s heartbeat, carrying its measurements, and schedules the next one interval later (skipping
    /// slots the caller slept through rather than sending a burst).
    private mutating func sendHeartbeat(_ index: Int, now: UInt64, actions: inout [LinkMonitorAction]) {
        let deadline = Self.adding(now, links[index].lossDeadline(interval: interval, timeout: timeout))
        links[index].outstanding.append(.init(sentAt: now, deadline: deadline, countedLost: false))
        links[index].heartbeatsSent += 1
        while links[index].nextHeartbeatAt <= now {
            links[index].nextHeartbeatAt = Self.adding(links[index].nextHeartbeatAt, interval)
        }
        actions.append(.sendHeartbeat(link: index, heartbeat: heartbeat(index, timestamp: now)))
    }

    /// The HEARTBEAT body for `link` sent at `timestamp`: its health and measurements, clamped to the fields.
    func heartbeat(_ index: Int, timestamp: UInt64) -> MultipathHeartbeat {
        let link = links[index]
        let rtt = link.smoothedRTT.map { UInt32(min(($0 / 1000).rounded(), Double(UInt32.max - 1))) }
        let score = score(of: index).map {
            Int32(max(min(($0 * 1000).rounded(), Double(Int32.max)), Double(Int32.min + 1)))
        }
        return MultipathHeartbeat(
            link: UInt8(index), health: link.health, timestamp: timestamp, smoothedRTTMicroseconds: rtt,
            lossBasisPoints: UInt16((link.losses.lossPercent * 100).rounded()), scoreThousandths: score)
    }

    /// `a + b`, or UInt64.max when that overflows.
    static func adding(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
