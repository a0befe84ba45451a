/// One token-bucket rule: `rate` tokens every `interval`, at most `burst` held (one part of a listener's
/// `rate_limit`, such as `per_ip: { rate: 50, interval: "1s", burst: 100 }`).
///
/// The bucket arithmetic is in integers, so refills are exact whatever the rate: a bucket keeps its tokens as
/// *credit*, in units of 1/`interval`-in-nanoseconds of a token. Every nanosecond adds `rate` units and a token
/// costs `interval` units, so `rate` tokens come back per `interval` with no rounding, ever (3 tokens a second
/// is 3 units a nanosecond against a price of 1,000,000,000, not a token every 333,333,333.33 ns). The bounds
/// on the three numbers keep the largest credit, `burst × interval`, below 2^62.
public struct RateLimit: Sendable, Equatable {
    /// Tokens given back every `interval` (`rate`, 1 to 1,000,000,000).
    public let rate: Int
    /// The period `rate` is counted over (`interval`, 1ns to 1h).
    public let interval: Duration
    /// The most tokens a bucket holds, and so the most admissions in a row from a full bucket (`burst`,
    /// 1 to 1,000,000; the config's default is `rate`). A new bucket starts full.
    public let burst: Int
    /// Credit a nanosecond adds: `rate`.
    let creditPerNanosecond: UInt64
    /// Credit one token costs: `interval` in nanoseconds.
    let tokenCost: UInt64
    /// Credit of a full bucket: `burst × tokenCost`.
    let capacity: UInt64
    /// Nanoseconds an empty bucket takes to fill: after this long untouched, any bucket is full and can be
    /// forgotten (a fresh one starts full), which is what the idle sweep relies on.
    let fillTime: UInt64

    /// The largest `rate`.
    public static let maxRate = 1_000_000_000
    /// The largest `burst`.
    public static let maxBurst = 1_000_000
    /// The longest `interval`.
    public static let maxInterval = Duration.seconds(3600)

    /// A rule of `rate` tokens per `interval`, holding at most `burst` (by default `rate`). The values must be in
    /// range: the config reader checks them with messages, and a value out of range here is a programming error.
    public init(rate: Int, interval: Duration, burst: Int? = nil) {
        let burst = burst ?? rate
        let nanoseconds = interval.nanosecondsClamped
        precondition((1...Self.maxRate).contains(rate), "rate \(rate) out of range")
        precondition((1...Self.maxBurst).contains(burst), "burst \(burst) out of range")
        precondition(nanoseconds >= 1 && interval <= Self.maxInterval, "interval \(interval) out of range")
        self.rate = rate
        self.interval = interval
        self.burst = burst
        creditPerNanosecond = UInt64(rate)
        tokenCost = nanoseconds
        capacity = UInt64(burst) * nanoseconds
        fillTime = (capacity + creditPerNanosecond - 1) / creditPerNanosecond
    }

    /// `50 per 1s, burst 100`, for logs.
    public var summary: String {
        "\(rate) per \(DurationParser.format(interval)), burst \(burst)"
    }
}
