import RelayIO

/// A server drawn at random, in proportion to its weight (uniformly when weights are equal).
///
/// No shared state but the generator's counter, so it scales across loops without contention and
/// needs nothing rebuilt when the set changes. Unlike the smooth weighted balancer it only meets the
/// weight shares on average.
public final class RandomBalancer: Balancer {
    private let random: SplitMix64

    /// `seed` fixes the sequence (tests); nil seeds from the system generator.
    public init(seed: UInt64? = nil) {
        random = SplitMix64(seed: seed)
    }

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        random.drawWeighted(from: set.servers, excluding: excluded)
    }
}
