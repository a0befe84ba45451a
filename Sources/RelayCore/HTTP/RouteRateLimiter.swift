import RelayIO
import Synchronization

/// An http route's `rate_limit` at run time: token buckets per API key name, per client address and for the
/// route, checked in that order; a request one of them refuses gives back the tokens the others took, and is told
/// when to come back.
final class RouteRateLimiter: Sendable {
    struct State: Sendable {
        var perKey: RateLimitTable<String>?
        var perIP: RateLimitTable<IPKey>?
        var total: TokenBucket?
    }

    let config: RouteRateLimitConfig
    private let state: SanitizerVisibleMutex<State>
    /// The most keys or addresses tracked; the least recently seen go first.
    static let maxKeys = 100_000

    init(_ config: RouteRateLimitConfig, now: UInt64 = EventLoop.now()) {
        self.config = config
        state = SanitizerVisibleMutex(State(perKey: config.perKey.map { RateLimitTable(limit: $0, maxKeys: Self.maxKeys) },
                            perIP: config.perIP.map { RateLimitTable(limit: $0, maxKeys: Self.maxKeys) },
                            total: config.total.map { TokenBucket(full: $0, now: now) }))
    }

    /// Nil when the request from `ip`, with the API key named `key` (if any), may go; otherwise the scope that
    /// refused it and how long until its bucket has a token again.
    func admit(key: String?, ip: IPKey, now: UInt64) -> (scope: String, retryAfter: Duration)? {
        state.withLock { state in
            if let key, let limit = config.perKey, state.perKey != nil {
                guard state.perKey!.take(key, now: now) else { return ("per_key", Self.wait(limit)) }
            }
            if let limit = config.perIP, state.perIP != nil {
                guard state.perIP!.take(ip, now: now) else {
                    if let key { state.perKey?.refund(key) }
                    return ("per_ip", Self.wait(limit))
                }
            }
            if let limit = config.total, state.total != nil {
                guard state.total!.take(limit, now: now) else {
                    if let key { state.perKey?.refund(key) }
                    state.perIP?.refund(ip)
                    return ("total", Self.wait(limit))
                }
            }
            return nil
        }
    }

    /// The time one token takes to come back: `interval / rate`.
    static func wait(_ limit: RateLimit) -> Duration {
        .nanoseconds(Int64(clamping: max(1, limit.tokenCost / limit.creditPerNanosecond)))
    }
}
