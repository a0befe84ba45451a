/// One token bucket: refilled at its `RateLimit`'s rate, emptied one token per admission.
///
/// Pure and clock-free: every call is given `now` (monotonic nanoseconds) and the rule, which the owner keeps
/// once for all its buckets, so a bucket is two integers (16 bytes). The tokens are kept as integer credit (see
/// `RateLimit`), so any number of refills adds up to exactly `rate × elapsed / interval` tokens. A `now` before
/// the last update (a thread that read the clock just before another one took the lock) adds nothing and does
/// not move the bucket's time back.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens held, in units of 1/`interval`-in-nanoseconds of a token; at most the rule's capacity.
    public private(set) var credit: UInt64
    /// When `credit` was last brought up to date (monotonic nanoseconds).
    public private(set) var updated: UInt64

    /// A full bucket, as every new one starts: a client's first `burst` admissions are never refused.
    public init(full limit: RateLimit, now: UInt64) {
        credit = limit.capacity
        updated = now
    }

    /// Takes one token if there is one, after adding what `now` refilled; false when the bucket is empty.
    public mutating func take(_ limit: RateLimit, now: UInt64) -> Bool {
        refill(limit, now: now)
        guard credit >= limit.tokenCost else { return false }
        credit -= limit.tokenCost
        return true
    }

    /// Gives back a token taken for an admission that another limit then refused.
    public mutating func refund(_ limit: RateLimit) {
        credit = min(limit.capacity, credit + limit.tokenCost)
    }

    /// Whole tokens available at `now`.
    public func tokens(_ limit: RateLimit, now: UInt64) -> Int {
        var bucket = self
        bucket.refill(limit, now: now)
        return Int(bucket.credit / limit.tokenCost)
    }

    /// Whether the bucket is full at `now`: then it holds nothing a fresh bucket would not, and can be forgotten.
    public func isFull(_ limit: RateLimit, now: UInt64) -> Bool {
        var bucket = self
        bucket.refill(limit, now: now)
        return bucket.credit >= limit.capacity
    }

    /// Carries the tokens over to a new rule (config reload): the same number of tokens, fractions included,
    /// at most the new burst.
    public mutating func rescale(from old: RateLimit, to new: RateLimit, now: UInt64) {
        refill(old, now: now)
        // credit / old.tokenCost tokens is at most old.burst, so the result fits: burst × cost < 2^62.
        let product = credit.multipliedFullWidth(by: new.tokenCost)
        let converted = old.tokenCost.dividingFullWidth(product).quotient
        credit = min(new.capacity, converted)
    }

    /// Adds the credit earned since `updated`. Exact: `elapsed × rate` is computed in full unless it would pass
    /// the capacity anyway (an idle bucket after hours), which is checked with overflow-reporting arithmetic.
    private mutating func refill(_ limit: RateLimit, now: UInt64) {
        guard now > updated else { return }
        let elapsed = now - updated
        updated = now
        guard credit < limit.capacity else { return }
        let (gain, overflowed) = elapsed.multipliedReportingOverflow(by: limit.creditPerNanosecond)
        credit = overflowed || gain >= limit.capacity - credit ? limit.capacity : credit + gain
    }
}
