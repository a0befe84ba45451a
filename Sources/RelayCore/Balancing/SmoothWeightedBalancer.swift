import RelayIO

/// nginx's smooth weighted round robin: every server gets exactly its weight's share of picks, spread
/// out instead of in bursts (weights 5, 1, 1 give `a a b a c a a`, not `a a a a a b c`).
///
/// Each pick adds every eligible server's weight to its `current`, picks the largest `current` (the
/// first in set order on ties) and takes the sum of the eligible weights off the winner. Over one
/// period of `sum(weights)` picks each server wins `weight` times and every `current` is back where it
/// started. Excluded servers sit the round out, as nginx's tried peers do: no credit, no part of the
/// total.
///
/// The counters live under a lock (a pick reads and writes all of them). When the set's generation
/// changes they are carried over, by identity, for the servers that stay, so a republished set does
/// not restart the sequence and hand the first servers a second turn; a new server starts from 0.
public final class SmoothWeightedBalancer: Balancer {
    /// The counters of the set last seen.
    private struct State {
        /// Generation of the set the counters belong to; nil before the first pick.
        var generation: UInt64?
        /// That set's servers, in its order.
        var servers: [ServerHandle] = []
        /// nginx's `current_weight`, one per server of `servers`.
        var current: [Int] = []

        /// Switches to `set`, keeping the counters of the servers still in it.
        mutating func adopt(_ set: ActiveSet) {
            var kept: [ObjectIdentifier: Int] = [:]
            kept.reserveCapacity(servers.count)
            for (server, value) in zip(servers, current) { kept[ObjectIdentifier(server)] = value }
            servers = set.servers
            current = servers.map { kept[ObjectIdentifier($0)] ?? 0 }
            generation = set.generation
        }
    }

    private let state = SanitizerVisibleMutex(State())

    public init() {}

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        guard !set.servers.isEmpty else { return nil }
        return state.withLock { state in
            // The count check only guards against a caller reusing a generation for another set.
            if state.generation != set.generation || state.servers.count != set.servers.count {
                state.adopt(set)
            }
            var best = -1
            var total = 0
            for index in state.servers.indices {
                let server = state.servers[index]
                if !excluded.isEmpty && excluded.contains(server) { continue }
                state.current[index] += server.weight
                total += server.weight
                if best < 0 || state.current[index] > state.current[best] { best = index }
            }
            guard best >= 0 else { return nil }
            state.current[best] -= total
            return state.servers[best]
        }
    }
}
