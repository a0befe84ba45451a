import RelayIO
import Synchronization

/// Owns one listener's `rate_limit`: the policy (replaced on config reload), the sweep that forgets idle
/// buckets, and the counts the metrics and the admin API read.
///
/// A thin actor around `RateLimitState`, where the rules live. The buckets sit behind a lock, so the hot path
/// never awaits this actor: the accept loop (`admitNew`) and the datagram loop (`admitPackets(in:now:)`, one
/// lock for a whole `recvmmsg` batch) take their tokens synchronously, and when the listener has no limit of
/// the kind they check, they read one relaxed atomic and take no lock at all. A listener's buckets are shared
/// by all its event loops: a TCP client's connections land on any loop, and `SO_REUSEPORT` spreads a UDP
/// client's source ports over several, so per-loop buckets would give an IP a limit per loop.
///
/// It has no timer: the listener calls `sweep(now:)` from the periodic loop it already runs (at least once a
/// second), as `Selector` leaves its loop to its caller.
public actor RateLimiter {
    /// The buckets and the rules; `admitNew`, `admitPacket` and `admitPackets` take the lock from the event loops.
    private nonisolated let state: SanitizerVisibleMutex<RateLimitState>
    /// Whether `per_ip` or `total` is set: when not, `admitNew` takes no lock. Published by `update`.
    private nonisolated let limitsNew: Atomic<Bool>
    /// Whether `packets_per_ip` is set: when not, the datagram path takes no lock. Published by `update`.
    private nonisolated let limitsPacketsFlag: Atomic<Bool>
    /// The rules in force.
    public private(set) var config: RateLimitConfig
    /// Most buckets one sweep forgets per lock hold, so a sweep after a flood never stalls the event loops
    /// for long (4,096 take about 100 µs).
    static let sweepChunk = 4096

    /// `maxTrackedAddresses` caps each per-address scope's table (65,536 by default: about 8 MiB when full, 120 bytes an address).
    public init(config: RateLimitConfig = .none, maxTrackedAddresses: Int = 65_536, now: UInt64 = EventLoop.now()) {
        self.config = config
        state = SanitizerVisibleMutex(RateLimitState(config: config, maxTrackedAddresses: maxTrackedAddresses,
                                                     now: now))
        limitsNew = Atomic(config.perIP != nil || config.total != nil)
        limitsPacketsFlag = Atomic(config.packetsPerIP != nil)
    }

    /// Admits a new connection, flow or handshake from `ip`, or says which limit refused it (counted).
    /// Synchronous, for the hot path.
    public nonisolated func admitNew(ip: IPKey, now: UInt64) -> RateDecision {
        guard limitsNew.load(ordering: .relaxed) else { return .allowed }
        return state.withLock { $0.admitNew(ip, now: now) }
    }

    /// Admits one datagram from `ip`, or says it is over `packets_per_ip` (counted). Synchronous, for the hot
    /// path; a receive loop holding a batch uses `admitPackets(in:now:)`.
    public nonisolated func admitPacket(ip: IPKey, now: UInt64) -> RateDecision {
        guard limitsPacketsFlag.load(ordering: .relaxed) else { return .allowed }
        return state.withLock { $0.admitPacket(ip, now: now) }
    }

    /// Drops from `batch` the datagrams over `packets_per_ip`, under one lock for the whole batch, and returns
    /// how many it dropped (counted). Datagrams without a sender are left for the caller to skip.
    nonisolated func admitPackets(in batch: DatagramBatch, now: UInt64) -> Int {
        guard limitsPacketsFlag.load(ordering: .relaxed), !batch.isEmpty else { return 0 }
        let before = batch.count
        state.withLock { state in
            batch.removeAll { datagram in
                guard let peer = datagram.peer else { return false }
                return state.admitPacket(peer.ipKey, now: now) != .allowed
            }
        }
        return before - batch.count
    }

    /// Whether the datagram path has a limit to check (`packets_per_ip` is set).
    public nonisolated var limitsPackets: Bool { limitsPacketsFlag.load(ordering: .relaxed) }

    /// New rules (config reload): buckets of a rule that stays keep their tokens, and the next admission uses
    /// the new rules.
    public func update(_ config: RateLimitConfig, now: UInt64 = EventLoop.now()) {
        self.config = config
        state.withLock { $0.apply(config, now: now) }
        limitsNew.store(config.perIP != nil || config.total != nil, ordering: .relaxed)
        limitsPacketsFlag.store(config.packetsPerIP != nil, ordering: .relaxed)
    }

    /// Forgets the buckets that have filled up again (idle clients), a chunk per lock hold; returns how many.
    @discardableResult
    public func sweep(now: UInt64) -> Int {
        var removed = 0
        while true {
            let chunk = state.withLock { $0.sweep(now: now, limit: Self.sweepChunk) }
            removed += chunk
            if chunk < Self.sweepChunk { return removed }
        }
    }

    /// Refusals by `scope` since the listener was made.
    public nonisolated func limited(_ scope: RateLimitScope) -> Int {
        state.withLock { $0.limitedCount(scope) }
    }

    /// Client addresses `scope` tracks now (0 for `total`).
    public nonisolated func trackedAddresses(_ scope: RateLimitScope) -> Int {
        state.withLock { $0.trackedAddresses(scope) }
    }

    /// Whole tokens `ip` has left in `scope` now; nil when the scope has no rule (for tests and operators).
    public nonisolated func tokens(_ scope: RateLimitScope, of ip: IPKey, now: UInt64 = EventLoop.now()) -> Int? {
        state.withLock { $0.tokens(scope, of: ip, now: now) }
    }
}
