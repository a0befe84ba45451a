/// The load-balancing algorithms a backend group can use: the config's `balance` values.
public typealias BalancerKind = BalanceAlgorithm

/// A new balancer of `kind`, with its own state (one per backend group).
public func makeBalancer(_ kind: BalancerKind) -> any Balancer {
    switch kind {
    case .roundRobin: RoundRobinBalancer()
    case .weighted: SmoothWeightedBalancer()
    case .leastConnections: LeastConnectionsBalancer()
    case .random: RandomBalancer()
    case .p2cEWMA: P2CEWMABalancer()
    case .hash: ConsistentHashBalancer()
    case .leastRequests: LeastRequestsBalancer()
    }
}
