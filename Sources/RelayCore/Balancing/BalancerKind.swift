/// The load-balancing algorithms a backend group can use; raw values are the config spellings.
public enum BalancerKind: String, Sendable, CaseIterable {
    /// Next server in the set, wrapping around.
    case roundRobin = "round_robin"
    /// nginx's smooth weighted round robin: exact weight shares, interleaved rather than in bursts.
    case weighted
    /// Fewest open connections per unit of weight.
    case leastConnections = "least_connections"
    /// Weighted random.
    case random
    /// Power of two choices over latency × load / weight.
    case p2cEWMA = "p2c_ewma"
    /// Consistent hashing on the client IP, so a client keeps its server while the set changes.
    case hash
}

/// A new balancer of `kind`, with its own state (one per backend group).
public func makeBalancer(_ kind: BalancerKind) -> any Balancer {
    switch kind {
    case .roundRobin: RoundRobinBalancer()
    case .weighted: SmoothWeightedBalancer()
    case .leastConnections: LeastConnectionsBalancer()
    case .random: RandomBalancer()
    case .p2cEWMA: P2CEWMABalancer()
    case .hash: ConsistentHashBalancer()
    }
}
