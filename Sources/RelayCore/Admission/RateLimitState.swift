import RelayIO

/// Every rate limit of one listener and the buckets behind them: the rules of `RateLimiter`, which keeps one
/// behind a lock.
///
/// Pure and clock-free: every call is given `now`, so the rules are tested synchronously with made-up times.
///
/// New traffic (a connection, a flow, a handshake) is checked against `per_ip` first, then `total`. So a
/// client over its own limit is refused without spending a token of the shared budget, and one flooding
/// client cannot use up what `total` leaves the others; when `total` refuses, the client's `per_ip` token is
/// given back, since nothing was admitted. Datagrams are checked against `packets_per_ip` alone.
public struct RateLimitState: Sendable {
    /// The rules in force.
    public private(set) var config: RateLimitConfig
    /// The most client addresses each per-address scope tracks.
    public let maxTrackedAddresses: Int
    /// `per_ip` buckets, when that limit is set.
    private var perIP: RateLimitTable<IPKey>?
    /// The one `total` bucket, when that limit is set.
    private var total: TokenBucket?
    /// `packets_per_ip` buckets, when that limit is set.
    private var packetsPerIP: RateLimitTable<IPKey>?
    /// Refusals so far, by scope, in `RateLimitScope.allCases` order.
    private var limitedCounts = [0, 0, 0]

    public init(config: RateLimitConfig = .none, maxTrackedAddresses: Int = 65_536, now: UInt64) {
        self.config = .none
        self.maxTrackedAddresses = maxTrackedAddresses
        apply(config, now: now)
    }

    /// Admits a new connection, flow or handshake from `ip` at `now`, or says which limit refused it.
    public mutating func admitNew(_ ip: IPKey, now: UInt64) -> RateDecision {
        if perIP != nil, !perIP!.take(ip, now: now) { return limited(.perIP) }
        if let limit = config.total, !total!.take(limit, now: now) {
            perIP?.refund(ip)
            return limited(.total)
        }
        return .allowed
    }

    /// Admits a datagram from `ip` at `now`, or says it is over `packets_per_ip`.
    public mutating func admitPacket(_ ip: IPKey, now: UInt64) -> RateDecision {
        guard packetsPerIP != nil, !packetsPerIP!.take(ip, now: now) else { return .allowed }
        return limited(.packetsPerIP)
    }

    /// New rules (config reload). Buckets of a rule that stays keep their tokens (at most the new burst); a rule
    /// that goes takes its buckets with it; a new rule starts with every bucket full.
    public mutating func apply(_ new: RateLimitConfig, now: UInt64) {
        Self.update(&perIP, to: new.perIP, maxKeys: maxTrackedAddresses, now: now)
        Self.update(&packetsPerIP, to: new.packetsPerIP, maxKeys: maxTrackedAddresses, now: now)
        switch (config.total, new.total) {
        case let (old?, next?): total!.rescale(from: old, to: next, now: now)
        case let (nil, next?): total = TokenBucket(full: next, now: now)
        case (_, nil): total = nil
        }
        config = new
    }

    /// Forgets up to `limit` buckets that have filled up again (see `RateLimitTable.sweep`); returns how many.
    public mutating func sweep(now: UInt64, limit: Int = .max) -> Int {
        var removed = perIP?.sweep(now: now, limit: limit) ?? 0
        removed += packetsPerIP?.sweep(now: now, limit: limit - removed) ?? 0
        return removed
    }

    /// Client addresses tracked by `scope` now (0 for `total`, which has one bucket for everyone).
    public func trackedAddresses(_ scope: RateLimitScope) -> Int {
        switch scope {
        case .perIP: perIP?.count ?? 0
        case .total: 0
        case .packetsPerIP: packetsPerIP?.count ?? 0
        }
    }

    /// Refusals by `scope` so far.
    public func limitedCount(_ scope: RateLimitScope) -> Int {
        limitedCounts[Self.position(scope)]
    }

    /// Whole tokens `ip` has left in `scope` at `now` (for `total`, the shared bucket's); nil when the scope
    /// has no rule.
    public func tokens(_ scope: RateLimitScope, of ip: IPKey, now: UInt64) -> Int? {
        switch scope {
        case .perIP: perIP?.tokens(of: ip, now: now)
        case .total: config.total.flatMap { limit in total?.tokens(limit, now: now) }
        case .packetsPerIP: packetsPerIP?.tokens(of: ip, now: now)
        }
    }

    /// Counts a refusal by `scope` and returns it.
    private mutating func limited(_ scope: RateLimitScope) -> RateDecision {
        limitedCounts[Self.position(scope)] += 1
        return .limited(scope)
    }

    private static func position(_ scope: RateLimitScope) -> Int {
        switch scope {
        case .perIP: 0
        case .total: 1
        case .packetsPerIP: 2
        }
    }

    /// Puts `table` under `rule` in place: the running table with its buckets, a new one, or none.
    private static func update(_ table: inout RateLimitTable<IPKey>?, to rule: RateLimit?, maxKeys: Int,
                               now: UInt64) {
        guard let rule else {
            table = nil
            return
        }
        if table == nil {
            table = RateLimitTable(limit: rule, maxKeys: maxKeys)
        } else {
            table!.setLimit(rule, now: now)
        }
    }
}
