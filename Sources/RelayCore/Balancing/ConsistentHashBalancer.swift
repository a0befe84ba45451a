import RelayIO

/// Consistent hashing on the client IP: a client keeps landing on the same server, and a set change
/// moves only the clients of the servers that left or joined.
///
/// The key is the client IP fully mixed to 64 bits (`IPKey.ringPosition`), so the clients of one
/// subnet spread over the whole ring, looked up on a `HashRing` of the set. When the owner is excluded
/// (it failed for this connection) the pick walks clockwise to the next server that is not, which is
/// exactly where the client would go if the owner left the set.
/// Without a client IP (a Unix socket, a caller that has none) it falls back to round robin.
///
/// The ring is built once per set generation, outside the lock, and kept under a short lock that
/// only swaps a reference; picks on an older set during a swap keep using the newer ring rather than
/// rebuilding the old one.
public final class ConsistentHashBalancer: Balancer {
    /// The ring of the newest set seen.
    private let cache = SanitizerVisibleMutex<HashRing?>(nil)
    /// For connections without a client IP.
    private let fallback = RoundRobinBalancer()

    public init() {}

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        guard let client else { return fallback.pick(from: set, client: nil, excluding: excluded) }
        guard !set.servers.isEmpty else { return nil }
        return ring(for: set).server(for: client.ringPosition, excluding: excluded)
    }

    /// The cached ring when it is for this set (or a newer one), otherwise a new ring for `set`.
    func ring(for set: ActiveSet) -> HashRing {
        if let cached = cache.withLock({ $0 }) {
            // The count check only guards against a caller reusing a generation for another set.
            if cached.generation > set.generation
                || (cached.generation == set.generation && cached.setCount == set.servers.count) {
                return cached
            }
        }
        let built = HashRing(set)
        cache.withLock { current in
            if current.map({ $0.generation <= built.generation }) ?? true { current = built }
        }
        return built
    }
}
