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
