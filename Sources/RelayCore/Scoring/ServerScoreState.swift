#if canImport(Glibc)
import Glibc
#endif
import RelayProtocol

/// Everything measured about one backend server, updated event by event, and the score computed from it.
///
/// A pure value: the Scoreboard owns one per server and feeds it probe results and what real traffic saw.
/// Nothing here reads a clock or does I/O, so every formula is tested synchronously.
///
/// **Signals are kept apart.** Probe latency, probe jitter, passive connect time and passive
/// time-to-first-byte (TTFB) are separate averages because they measure different things at different
/// rates. Probes come at a fixed rate over a fresh connection, so their latency and its jitter describe the
/// path and the server's accept queue comparably across servers, whatever their load. Traffic samples come
/// at the rate of real traffic: folded into the probe average, a busy server's estimate would be set by
/// thousands of samples and an idle one's by a few probes, and jitter would measure the traffic mix rather
/// than the server. The TTFB is the only signal that includes the application's own work: a server can
/// finish handshakes in 1 ms and still take 300 ms to answer.
///
/// **How the score uses them.** The latency part is computed from the *effective latency*,
/// `max(probe latency EWMA, TTFB EWMA)` when a TTFB exists (whichever exists when only one does), so a
/// server whose replies take 300 ms cannot look fast because its handshakes are quick. The jitter part uses
/// the probe jitter EWMA only. The success part is the success-rate EWMA, fed by probes and by traffic
/// (connect refused or timed out = failure, connected = success). Then the failure penalty is subtracted,
/// the history bonus added, and the total clamped to 0…100. The passive connect time is shown but not
/// scored: probes already measure connect time, on a path not skewed by relayd's own load.
///
/// **Starting values.** Every average starts from its first sample, as RFC 6298 starts SRTT from the first
/// RTT, not from a guessed prior (a prior of `maxAcceptable / 2` made a new server look mediocre for dozens
/// of samples). Jitter needs two latency samples: it stays unset until the second one and, unset, earns no
/// jitter points — no evidence, no points, the same rule as the unknown state.
///
/// **Unknown state.** A server with no probe result and no traffic outcome yet is *unknown*
/// (`isMeasured == false`): every part and the total are 0, and the Scoreboard hands it to the Selector as
/// not eligible, so it is never picked on merit. It is still `isHealthy` (healthy but unmeasured): nothing
/// says it is down, so when no server is eligible yet — before the first probe round — the caller's fallback
/// of trying every server still sends it traffic.
///
/// **Health.** Hysteresis as in HAProxy and pingora: down after `fall` consecutive probe failures, up again
/// after `rise` consecutive probe successes. A connection attempt by real traffic that is refused or times
/// out marks the server down at once (a hard failure); only probes bring it back.
///
/// **Probes versus traffic.** Only probes move the streak counters, the penalty and the bonus. They come at
/// a fixed rate, so the same evidence weighs the same on an idle and on a busy server; counted per
/// connection, a burst of 100 refused connects would max the penalty out within a millisecond. Traffic
/// feeds the success rate, the connect time and the TTFB, and its failures mark the server down.
public struct ServerScoreState: Sendable, Equatable {
    /// How health changed with one event, so the Scoreboard can report a server that just went down.
    public enum HealthTransition: Sendable, Equatable {
        /// Health is what it was before the event.
        case unchanged
        /// The server was up and is now down: evict it from the active set at once.
        case wentDown
        /// The server was down and has now had `rise` consecutive probe successes.
        case cameUp
    }

    /// Probe latency EWMA in milliseconds; nil until the first successful probe that measured a latency.
    /// The latency and jitter parts are computed from it.
    public private(set) var probeLatencyMs: Double?
    /// Probe jitter EWMA in milliseconds, of `|sample − previous latency EWMA|`; nil until the second latency
    /// sample, because one sample says nothing about variation.
    public private(set) var probeJitterMs: Double?
    /// EWMA of how long real traffic's connects took, in milliseconds (latency α). Shown, not scored:
    /// probes measure the same thing without relayd's own load in it.
    public private(set) var connectMs: Double?
    /// EWMA of real traffic's time to first byte, in milliseconds (latency α): from the first byte relayd
    /// forwarded to the server until the server's first byte back. Raises the effective latency of servers
    /// that connect fast but answer slowly.
    public private(set) var ttfbMs: Double?
    /// EWMA of outcomes, 1 for a success and 0 for a failure, from probes and traffic; nil until the first
    /// outcome, which it starts from.
    public private(set) var successRate: Double?
    /// Probe failures in a row; drives the penalty, the bonus reset and `fall`.
    public private(set) var consecutiveFailures = 0
    /// Probe successes in a row (a traffic failure also resets it); drives the bonus and `rise`.
    public private(set) var consecutiveSuccesses = 0
    /// Failure penalty still in force. State, not recomputed from the streak: each success after failures
    /// only recovers `recoveryPerSuccess` of it.
    public private(set) var penalty: Double = 0
    /// History bonus earned by long success streaks; kept through short failure bursts and reset only after
    /// `resetAfterFailures` failures in a row.
    public private(set) var bonus: Double = 0
    /// Whether the server may receive traffic. Starts true (healthy but unmeasured) so traffic can flow
    /// before the first probe; flips with hysteresis (`fall`, `rise`) or at once on a traffic failure.
    public private(set) var isHealthy = true
    /// The most recent failure, probe or traffic, for display. Kept after recovery: it is the *last* error,
    /// which is what an operator looking at a flapping server wants to see.
    public private(set) var lastError: String?
    /// Why the server is down, for the eviction log line and display (`3 consecutive failures`,
    /// `traffic: connection refused`); nil while it is up.
    public private(set) var downReason: String?
    /// In a cluster, the leader's probe count for this server in the last publication adopted; nil while this
    /// node has adopted nothing.
    public private(set) var adoptedProbes: UInt64?
    /// In a cluster, the leader's probe count when this node's own traffic marked the server down: the server
    /// stays down here until the leader has `rise` probe results newer than that, all successes.
    public private(set) var heldDownAtProbes: UInt64?

    /// A fresh, unknown server.
    public init() {}

    /// Whether anything has been measured: false is the unknown state (score 0, not eligible).
    public var isMeasured: Bool {
        successRate != nil || probeLatencyMs != nil || ttfbMs != nil || connectMs != nil
    }

    /// The latency the latency part is scored from: `max(probe latency EWMA, TTFB EWMA)`, either alone when
    /// only one exists, nil when neither does.
    public var effectiveLatencyMs: Double? {
        switch (probeLatencyMs, ttfbMs) {
        case let (probe?, ttfb?): max(probe, ttfb)
        case let (probe?, nil): probe
        case let (nil, ttfb?): ttfb
        case (nil, nil): nil
        }
    }

    /// The effective latency in nanoseconds for load-aware balancers, 0 when there is none yet.
    public var latencyEstimateNanos: UInt64 {
        guard let milliseconds = effectiveLatencyMs, milliseconds > 0 else { return 0 }
        return UInt64(min((milliseconds * 1e6).rounded(), Double(UInt64.max / 2)))
    }

    // MARK: - Events

    /// One probe result. `latency` is used only for a success (a failed probe's duration is a timeout, not
    /// a latency); `error` is kept as `lastError` for a failure.
    @discardableResult
    public mutating func recordProbe(success: Bool, latency: Duration?, error: String?,
                                     scoring: ScoringParameters, probe: ProbeParameters) -> HealthTransition {
        if success {
            consecutiveFailures = 0
            consecutiveSuccesses += 1
            recordOutcome(success: true, scoring.successRate)
            penalty = max(0, penalty - scoring.failurePenalty.recoveryPerSuccess)
            let history = scoring.historicalBonus
            if history.checksPerPoint > 0, consecutiveSuccesses % history.checksPerPoint == 0 {
                bonus = min(history.maxBonus, bonus + 1)
            }
            if let latency { recordLatency(latency, scoring) }
            if !isHealthy, consecutiveSuccesses >= max(1, probe.rise) {
                isHealthy = true
                downReason = nil
                return .cameUp
            }
            return .unchanged
        }

        consecutiveSuccesses = 0
        consecutiveFailures += 1
        recordOutcome(success: false, scoring.successRate)
        let rule = scoring.failurePenalty
        let streakPenalty = min(rule.maxPenalty,
                                rule.basePenalty * pow(rule.exponentFactor, Double(consecutiveFailures - 1)))
        // The seed recomputed the penalty from the streak alone, so a single failure after a partial recovery
        // (80 → 77.5) dropped it to 5: a failure made the score better. Never lower it on a failure.
        penalty = max(penalty, streakPenalty)
        let resetAfter = scoring.historicalBonus.resetAfterFailures
        if resetAfter > 0, consecutiveFailures >= resetAfter { bonus = 0 }
        lastError = error ?? "probe failed"
        if isHealthy, consecutiveFailures >= max(1, probe.fall) {
            isHealthy = false
            downReason = consecutiveFailures == 1 ? "probe failed" : "\(consecutiveFailures) consecutive failures"
            return .wentDown
        }
        return .unchanged
    }

    /// Real traffic connected to the server in `connectTime`: a success for the success rate.
    public mutating func recordPassiveConnected(_ connectTime: Duration, scoring: ScoringParameters) {
        connectMs = Self.ewma(connectMs, Self.milliseconds(connectTime), alpha: scoring.latency.ewmaAlpha)
        recordOutcome(success: true, scoring.successRate)
    }

    /// Real traffic's time to first byte: from the first byte relayd forwarded to the server until the
    /// server's first byte back.
    public mutating func recordPassiveFirstByte(_ timeToFirstByte: Duration, scoring: ScoringParameters) {
        ttfbMs = Self.ewma(ttfbMs, Self.milliseconds(timeToFirstByte), alpha: scoring.latency.ewmaAlpha)
    }

    /// A request the server answered well (`success`) or with a 5xx, or not in time: moves the success rate only.
    public mutating func recordPassiveAnswer(success: Bool, scoring: ScoringParameters) {
        recordOutcome(success: success, scoring.successRate)
    }

    /// A batch of soft samples summed on the forwarding path (`PassiveTally`): each average moves as if its
    /// samples had come one by one, all at the batch's mean; connects count as successes, as one by one.
    public mutating func recordPassive(_ sums: PassiveTally.Sums, scoring: ScoringParameters) {
        let alpha = scoring.latency.ewmaAlpha
        if sums.connected > 0 {
            let mean = Double(sums.connectNanos) / Double(sums.connected) / 1e6
            connectMs = Self.ewma(connectMs, mean, alpha: alpha, count: sums.connected)
        }
        if sums.firstBytes > 0 {
            let mean = Double(sums.firstByteNanos) / Double(sums.firstBytes) / 1e6
            ttfbMs = Self.ewma(ttfbMs, mean, alpha: alpha, count: sums.firstBytes)
        }
        let outcomes = sums.connected + sums.answeredWell + sums.answeredBadly
        if outcomes > 0 {
            let rate = Double(sums.connected + sums.answeredWell) / Double(outcomes)
            successRate = Self.ewma(successRate, rate, alpha: scoring.successRate.ewmaAlpha, count: outcomes)
        }
    }

    /// Real traffic's connect was refused or timed out: a hard failure that marks the server down at once.
    /// The rise streak restarts, so `rise` probe successes are needed to bring it back.
    @discardableResult
    public mutating func recordPassiveRefused(error: String, scoring: ScoringParameters) -> HealthTransition {
        recordOutcome(success: false, scoring.successRate)
        consecutiveSuccesses = 0
        lastError = error
        guard isHealthy else { return .unchanged }
        isHealthy = false
        downReason = "traffic: \(error)"
        if let adoptedProbes { heldDownAtProbes = adoptedProbes }
        return .wentDown
    }

    /// Takes the cluster leader's probe-derived measurements in place of this node's own (which a follower does
    /// not make): probe latency and jitter, the streaks, penalty and bonus, health. The success rate is taken as
    /// published and this node's traffic keeps moving it until the next publication; the traffic-only averages
    /// (time to first byte, connect time) stay this node's own, so the effective latency still sees how slowly
    /// the server answers *this* node. A server this node's traffic marked down stays down until the leader
    /// has `rise` probe results newer than the failure.
    @discardableResult
    public mutating func adopt(_ published: ClusterServerScore, probe: ProbeParameters) -> HealthTransition {
        probeLatencyMs = published.latencyMs
        probeJitterMs = published.jitterMs
        if let rate = published.successRate { successRate = rate }
        consecutiveFailures = published.consecutiveFailures
        consecutiveSuccesses = published.consecutiveSuccesses
        penalty = published.penalty
        bonus = published.bonus
        if let error = published.lastError { lastError = error }
        adoptedProbes = published.probes
        if published.healthy {
            if let held = heldDownAtProbes {
                guard published.probes >= held + UInt64(max(1, probe.rise)) else { return .unchanged }
                heldDownAtProbes = nil
            }
            guard !isHealthy else { return .unchanged }
            isHealthy = true
            downReason = nil
            return .cameUp
        }
        heldDownAtProbes = nil
        downReason = published.downReason ?? "down at the cluster leader"
        guard isHealthy else { return .unchanged }
        isHealthy = false
        return .wentDown
    }

    // MARK: - Score

    /// The score and its parts under `p`, with the raw values for display.
    public func breakdown(_ p: ScoringParameters) -> ScoreBreakdown {
        var latencyPart = 0.0, jitterPart = 0.0, successPart = 0.0, total = 0.0
        if isMeasured {
            if let latency = effectiveLatencyMs {
                latencyPart = Self.linearPart(latency, best: p.latency.base.millisecondsValue,
                                              worst: p.latency.maxAcceptable.millisecondsValue,
                                              maxScore: p.latency.maxScore)
            }
            if let jitter = probeJitterMs {
                jitterPart = Self.linearPart(jitter, best: p.jitter.base.millisecondsValue,
                                             worst: p.jitter.maxAcceptable.millisecondsValue,
                                             maxScore: p.jitter.maxScore)
            }
            if let successRate { successPart = successRate * p.successRate.maxScore }
            total = min(100, max(0, latencyPart + jitterPart + successPart - penalty + bonus))
        }
        return ScoreBreakdown(
            latency: latencyPart, jitter: jitterPart, success: successPart,
            penalty: penalty, bonus: bonus, total: total,
            latencyMs: probeLatencyMs, jitterMs: probeJitterMs, successRate: successRate, ttfbMs: ttfbMs,
            connectMs: connectMs, consecutiveFailures: consecutiveFailures, healthy: isHealthy,
            measured: isMeasured, lastError: lastError, downReason: downReason)
    }

    /// Full `maxScore` at or below `best`, 0 at or above `worst`, linear between.
    static func linearPart(_ value: Double, best: Double, worst: Double, maxScore: Double) -> Double {
        if value <= best { return maxScore }
        if value >= worst { return 0 }
        return maxScore * (worst - value) / (worst - best)
    }

    // MARK: - Helpers

    private mutating func recordLatency(_ latency: Duration, _ scoring: ScoringParameters) {
        let sample = Self.milliseconds(latency)
        if let previous = probeLatencyMs {
            probeJitterMs = Self.ewma(probeJitterMs, abs(sample - previous), alpha: scoring.jitter.ewmaAlpha)
        }
        probeLatencyMs = Self.ewma(probeLatencyMs, sample, alpha: scoring.latency.ewmaAlpha)
    }

    private mutating func recordOutcome(success: Bool, _ rule: ScoringParameters.SuccessRate) {
        successRate = Self.ewma(successRate, success ? 1 : 0, alpha: rule.ewmaAlpha)
    }

    /// `ewma` applied `count` times with the same `sample`: `(1−α)^count·v + (1−(1−α)^count)·x`.
    static func ewma(_ current: Double?, _ sample: Double, alpha: Double, count: Int) -> Double {
        guard let current else { return sample }
        let kept = pow(1 - alpha, Double(count))
        return kept * current + (1 - kept) * sample
    }

    /// `α·x + (1−α)·v`, or `x` itself for the first sample.
    static func ewma(_ current: Double?, _ sample: Double, alpha: Double) -> Double {
        guard let current else { return sample }
        return alpha * sample + (1 - alpha) * current
    }

    private static func milliseconds(_ duration: Duration) -> Double {
        max(0, duration.millisecondsValue)
    }
}
