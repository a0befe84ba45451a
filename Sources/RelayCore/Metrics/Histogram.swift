import Synchronization

/// Observations counted into buckets by upper bound: connect times, time to first byte, connection lifetimes.
///
/// `observe` costs a binary search over the bounds and three relaxed atomic adds, with no lock, no CAS
/// loop and no allocation, so the forwarding path can call it directly.
///
/// Buckets are stored non-cumulatively (one count per bucket, the last for values above every bound) and
/// accumulated by `snapshot()`. The observation count is not a separate atomic but the total of the buckets,
/// so a snapshot's `+Inf` bucket always equals its count, as the format requires, even while other threads
/// observe.
///
/// The sum is kept in integers, because an atomic `Double` could only be added to with a compare-and-swap
/// loop: whole base units in one `Int64`, and the fraction of each observation, rounded to the nearest
/// nano-unit (1 ns for seconds), in another. Each observation adds at most half a nano-unit of error, so a
/// billion observations drift by at most half a second-unit; whole units are exact up to 2^63. Every 10^9
/// whole units' worth of fractions is carried into the whole part by the one observation whose addition
/// crossed that mark, so neither part overflows. A scrape that reads the two parts in the middle of that
/// carry (once per 10^9 units) sees the sum briefly off by 10^9 units.
///
/// Values: a value equal to a bound counts in that bucket (`le` is inclusive). Negative values count in the
/// first bucket (they are below every bound) and reduce the sum, as in the Prometheus clients. NaN and
/// infinities are ignored: NaN belongs in no bucket, and either would make `_sum` NaN or infinite for the
/// rest of the process's life. For the sum, values are clamped to ±2^53 base units.
public final class Histogram: Sendable {
    /// The finite upper bounds, strictly increasing; the `+Inf` bucket is implicit.
    public let upperBounds: [Double]
    /// How many observations fell into each bucket (not cumulative); one more than `upperBounds`.
    private let buckets: [Counter]
    /// The whole-unit part of the sum.
    private let sumWhole = Atomic<Int64>(0)
    /// The fractional parts of the sum in nano-units, below `carryNanos` except during a carry.
    private let sumNanos = Atomic<UInt64>(0)
    /// When `sumNanos` reaches this, it is moved into `sumWhole`: 10^18 (10^9 whole units), far from 2^64.
    /// Smaller only in tests, which cannot make 10^9 observations to see a carry.
    private let carryNanos: UInt64
    /// Largest magnitude added to the sum; whole units beyond it would not even be exact as a `Double`.
    private static let sumLimit = 9_007_199_254_740_992.0

    /// Connect time, probe time, time to first byte, in seconds: 0.5 ms to 10 s.
    public static let latencyBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// Connection and UDP flow lifetimes, in seconds: 10 ms to a day.
    public static let durationBuckets: [Double] = [0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400]

    /// A histogram with the given finite, strictly increasing upper bounds, in base units (seconds, bytes);
    /// at least one is required, and `+Inf` is added implicitly.
    public convenience init(buckets: [Double]) {
        self.init(buckets: buckets, carryNanos: 1_000_000_000_000_000_000)
    }

    /// A histogram that carries fractions into the whole part every `carryNanos` nano-units, a multiple
    /// of 10^9.
    init(buckets: [Double], carryNanos: UInt64) {
        precondition(carryNanos > 0 && carryNanos % 1_000_000_000 == 0, "carry must be whole units")
        precondition(!buckets.isEmpty, "a histogram needs at least one bucket bound")
        precondition(buckets.allSatisfy(\.isFinite), "histogram bucket bounds must be finite; +Inf is implicit")
        precondition(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 },
                     "histogram bucket bounds must be strictly increasing: \(buckets)")
        upperBounds = buckets
        self.carryNanos = carryNanos
        self.buckets = (0...buckets.count).map { _ in Counter() }
    }

    /// Records one observation (see the type's notes for negative and non-finite values).
    public func observe(_ value: Double) {
        guard value.isFinite else { return }
        // The first bucket whose bound is at least `value`, or the +Inf bucket.
        var low = 0
        var high = upperBounds.count
        while low < high {
            let middle = (low + high) / 2
            if upperBounds[middle] < value { low = middle + 1 } else { high = middle }
        }
        buckets[low].increment()

        let clamped = min(max(value, -Self.sumLimit), Self.sumLimit)
        let whole = clamped.rounded(.down)
        let nanos = UInt64(((clamped - whole) * 1e9).rounded())
        sumWhole.wrappingAdd(Int64(whole), ordering: .relaxed)
        let (before, after) = sumNanos.wrappingAdd(nanos, ordering: .relaxed)
        // Atomic adds form one sequence, so each multiple of the carry that `sumNanos` climbs past is
        // passed by exactly one observation, which moves that much into the whole part. Every pending
        // carry has its multiple still below the value, so the subtraction never goes below zero.
        let carries = after / carryNanos - before / carryNanos
        if carries > 0 {
            sumNanos.wrappingSubtract(carries * carryNanos, ordering: .relaxed)
            sumWhole.wrappingAdd(Int64(carries * (carryNanos / 1_000_000_000)), ordering: .relaxed)
        }
    }

    /// Records one observation of `duration`, in seconds.
    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) * 1e-18)
    }

    /// The buckets (accumulated), count and sum as of now.
    public func snapshot() -> HistogramSnapshot {
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(buckets.count)
        var running: UInt64 = 0
        for bucket in buckets {
            running &+= bucket.value
            cumulative.append(running)
        }
        let sum = Double(sumWhole.load(ordering: .relaxed)) + Double(sumNanos.load(ordering: .relaxed)) / 1e9
        return HistogramSnapshot(upperBounds: upperBounds, cumulativeCounts: cumulative, sum: sum)
    }
}
