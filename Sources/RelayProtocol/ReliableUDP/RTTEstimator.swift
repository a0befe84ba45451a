/// Round-trip time and retransmission timeout, as RFC 6298 computes them, with RFC 9002's refinements.
///
/// All times are nanoseconds. The first sample R sets `smoothed = R` and `variation = R/2`; each later sample
/// R' updates `variation = ¾·variation + ¼·|smoothed − R'|` and then `smoothed = ⅞·smoothed + ⅛·R'` (RFC 6298
/// §2.2–2.3). As RFC 9002 §5.3 does, the peer's reported ack delay is taken out of every sample but the first
/// when that still leaves it at or above the smallest RTT seen, and the smallest RTT is tracked.
///
/// `timeout = smoothed + max(granularity, 4·variation)`, clamped to `[minimumTimeout, maximumTimeout]`, then
/// doubled for each timeout in a row (`backOff`, RFC 6298 §5.5) up to `maximumTimeout`; an acknowledgement of
/// new data ends the back-off (`resetBackOff`, as RFC 9002 §6.2.1 resets its PTO count). Before any sample the
/// timeout comes from `initial` (RFC 9002's 333 ms gives RFC 6298's 1 s).
public struct RTTEstimator: Sendable, Equatable {
    /// The estimator's knobs.
    public struct Configuration: Sendable, Equatable {
        /// The RTT assumed before the first sample.
        public var initial: UInt64
        /// The timer granularity: the least the variation term adds.
        public var granularity: UInt64
        /// The floor of the timeout, so a fast LAN does not retransmit on scheduling noise. RFC 6298 says 1 s
        /// for the Internet at large; a relay on known links can go far lower.
        public var minimumTimeout: UInt64
        /// The ceiling of the timeout, backed off or not.
        public var maximumTimeout: UInt64

        /// 333 ms initial, 1 ms granularity, 20 ms floor, 10 s ceiling.
        public init(initial: UInt64 = 333_000_000, granularity: UInt64 = 1_000_000,
                    minimumTimeout: UInt64 = 20_000_000, maximumTimeout: UInt64 = 10_000_000_000) {
            self.initial = min(initial, RTTEstimator.largestSample)
            self.granularity = min(granularity, RTTEstimator.largestSample)
            self.minimumTimeout = min(minimumTimeout, RTTEstimator.largestSample)
            self.maximumTimeout = min(max(maximumTimeout, minimumTimeout), RTTEstimator.largestSample)
        }
    }

    /// The largest sample taken in as it is (2⁴⁰ ns, about 18 minutes); larger ones are capped to it.
    public static let largestSample: UInt64 = 1 << 40

    /// The knobs.
    public let configuration: Configuration
    /// SRTT.
    public private(set) var smoothed: UInt64
    /// RTTVAR.
    public private(set) var variation: UInt64
    /// The smallest sample seen, before ack delay is taken out; nil before any.
    public private(set) var minimum: UInt64?
    /// The latest sample, as measured.
    public private(set) var latest: UInt64?
    /// Samples taken.
    public private(set) var sampleCount = 0
    /// Timeouts in a row since the last acknowledgement of new data.
    public private(set) var backOffCount = 0

    /// An estimator before any sample.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        smoothed = min(configuration.initial, Self.largestSample)
        variation = smoothed / 2
    }

    /// Takes in one sample: `rtt` from sending a packet to receiving its acknowledgement, of which the peer
    /// says it held the acknowledgement back for `ackDelay`.
    public mutating func add(sample: UInt64, ackDelay: UInt64 = 0) {
        // Samples beyond ~18 minutes are nonsense; the cap keeps the arithmetic below far from overflow.
        let rtt = min(sample, Self.largestSample)
        let ackDelay = min(ackDelay, Self.largestSample)
        latest = rtt
        minimum = min(minimum ?? rtt, rtt)
        if sampleCount == 0 {
            smoothed = rtt
            variation = rtt / 2
        } else {
            var adjusted = rtt
            if let minimum, rtt >= minimum + ackDelay { adjusted = rtt - ackDelay }
            let difference = smoothed > adjusted ? smoothed - adjusted : adjusted - smoothed
            variation = (3 * variation + difference) / 4
            smoothed = (7 * smoothed + adjusted) / 8
        }
        sampleCount += 1
    }

    /// The timeout without back-off: `smoothed + max(granularity, 4·variation)`, clamped.
    public var baseTimeout: UInt64 {
        let value = smoothed + max(configuration.granularity, 4 * variation)
        return min(max(value, configuration.minimumTimeout), configuration.maximumTimeout)
    }

    /// The timeout now: the base doubled for each timeout in a row, at most `maximumTimeout`.
    public var timeout: UInt64 {
        var value = baseTimeout
        for _ in 0..<min(backOffCount, 64) {
            if value >= configuration.maximumTimeout / 2 { return configuration.maximumTimeout }
            value *= 2
        }
        return min(value, configuration.maximumTimeout)
    }

    /// A retransmission timer fired: the next timeout is twice as long (RFC 6298 §5.5).
    public mutating func backOff() {
        backOffCount += 1
    }

    /// New data was acknowledged: the timeout returns to its base.
    public mutating func resetBackOff() {
        backOffCount = 0
    }
}
