/// How a server's score is computed from its measurements. Defaults are those of the TCP forwarder
/// this design comes from; every one can be set per backend group under `scoring`.
public struct ScoringParameters: Sendable, Equatable {
    /// Latency part: full marks at or below `base`, zero at or above `maxAcceptable`, linear between.
    public struct Latency: Sendable, Equatable {
        public var maxScore: Double = 45
        public var ewmaAlpha: Double = 0.2
        public var base: Duration = .milliseconds(50)
        public var maxAcceptable: Duration = .milliseconds(800)
        public init() {}
    }

    /// Jitter part: the EWMA of |latency sample − latency EWMA|, scored like latency.
    public struct Jitter: Sendable, Equatable {
        public var maxScore: Double = 15
        public var ewmaAlpha: Double = 0.3
        public var base: Duration = .milliseconds(10)
        public var maxAcceptable: Duration = .milliseconds(300)
        public init() {}
    }

    /// Success part: EWMA of outcomes (1 success, 0 failure) × `maxScore`.
    public struct SuccessRate: Sendable, Equatable {
        public var maxScore: Double = 40
        public var ewmaAlpha: Double = 0.1
        public init() {}
    }

    /// Penalty for n consecutive failures: `base · exponentFactor^(n−1)`, capped at `maxPenalty`; after
    /// failures stop, each success takes `recoveryPerSuccess` off what is left.
    public struct FailurePenalty: Sendable, Equatable {
        public var basePenalty: Double = 5
        public var exponentFactor: Double = 1.8
        public var maxPenalty: Double = 80
        public var recoveryPerSuccess: Double = 2.5
        public init() {}
    }

    /// Bonus for stability: +1 per `checksPerPoint` consecutive successes, up to `maxBonus`; reset after
    /// `resetAfterFailures` consecutive failures.
    public struct HistoricalBonus: Sendable, Equatable {
        public var maxBonus: Double = 10
        public var checksPerPoint: Int = 120
        public var resetAfterFailures: Int = 5
        public init() {}
    }

    public var latency = Latency()
    public var jitter = Jitter()
    public var successRate = SuccessRate()
    public var failurePenalty = FailurePenalty()
    public var historicalBonus = HistoricalBonus()

    public init() {}
}

/// How the Selector turns scores into an active set (`selector` in a backend group).
public struct SelectorParameters: Sendable, Equatable {
    /// How often the ranking is re-evaluated.
    public var evaluationInterval: Duration = .seconds(30)
    /// How many servers the active set holds.
    public var activeSetSize: Int = 3
    /// Servers scoring below this never enter the active set.
    public var minScore: Double = 15
    /// After a switch, further switches wait this long…
    public var debounce: Duration = .seconds(60)
    /// …unless the new set's average score beats the current one's by at least this much.
    public var improvementThreshold: Double = 5

    public init() {}
}

/// How servers are probed (`probe` in a backend group).
public struct ProbeParameters: Sendable, Equatable {
    /// What a probe does.
    public enum Kind: Sendable, Equatable {
        /// Open a TCP connection; the latency is the connect time.
        case tcp
        /// `GET path` over HTTP/1.1; healthy when the status is in `expectStatus`; the latency is the time
        /// to the first byte of the response.
        case http(path: String, expectStatus: ClosedRange<Int>)
        /// Send `payload` in a datagram; healthy on any reply; the latency is the round trip.
        case udp(payload: [UInt8])
    }

    /// What a probe does. Tcp here; a config without `probe.kind` gets the protocol of the listeners that use
    /// the group (see `ProbeKindDefault`).
    public var kind: Kind = .tcp
    /// Time between two probing rounds.
    public var interval: Duration = .seconds(15)
    /// How long one probe may take.
    public var timeout: Duration = .seconds(1)
    /// Servers probed per round, the least recently probed first.
    public var candidates: Int = 10
    /// Probe every server once at start, before the first selection.
    public var initialEnabled: Bool = true
    /// Probes in flight at once during the initial round.
    public var initialConcurrency: Int = 100
    /// Timeout of the initial probes.
    public var initialTimeout: Duration = .milliseconds(500)
    /// Consecutive successes that bring a down server back up.
    public var rise: Int = 2
    /// Consecutive failures that mark a server down (and evict it from the active set at once).
    public var fall: Int = 3

    public init() {}
}
