/// A histogram's state at one moment: cumulative bucket counts, the count and the sum.
public struct HistogramSnapshot: Sendable, Equatable {
    /// The finite upper bounds, strictly increasing.
    public var upperBounds: [Double]
    /// Observations at or below each bound, then the total (the `+Inf` bucket) last: one more than
    /// `upperBounds`.
    public var cumulativeCounts: [UInt64]
    /// How many observations there were: the `+Inf` bucket.
    public var count: UInt64
    /// The sum of the observations, in base units.
    public var sum: Double

    /// A snapshot from cumulative counts, the last of which (the `+Inf` bucket) is the count.
    public init(upperBounds: [Double], cumulativeCounts: [UInt64], sum: Double) {
        precondition(cumulativeCounts.count == upperBounds.count + 1,
                     "a histogram snapshot needs one cumulative count per bound plus one for +Inf")
        self.upperBounds = upperBounds
        self.cumulativeCounts = cumulativeCounts
        self.count = cumulativeCounts.last ?? 0
        self.sum = sum
    }

    /// The `q`-quantile (0 ≤ q ≤ 1) estimated as PromQL's `histogram_quantile` does: find the bucket where
    /// the rank `q × count` falls and interpolate linearly inside it, taking the first bucket to start at 0
    /// (when its bound is positive). A rank in the `+Inf` bucket gives the last finite bound, the most that
    /// can be said. Nil when there are no observations or `q` is outside 0...1.
    ///
    /// One difference: the search skips leading empty buckets, so `quantile(0)` is the lower edge of the
    /// first bucket with observations instead of PromQL's NaN for an empty first bucket.
    public func quantile(_ q: Double) -> Double? {
        guard count > 0, (0...1).contains(q) else { return nil }
        let rank = q * Double(count)
        guard let bucket = upperBounds.indices.first(where: {
            let cumulative = Double(cumulativeCounts[$0])
            return cumulative >= rank && cumulative > 0
        }) else {
            return upperBounds.last
        }
        let upper = upperBounds[bucket]
        if bucket == 0 && upper <= 0 { return upper }
        let lower = bucket == 0 ? 0 : upperBounds[bucket - 1]
        let below = bucket == 0 ? 0 : Double(cumulativeCounts[bucket - 1])
        let inBucket = Double(cumulativeCounts[bucket]) - below
        return lower + (upper - lower) * ((rank - below) / inBucket)
    }
}
