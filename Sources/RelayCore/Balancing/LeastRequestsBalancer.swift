import RelayIO

/// Seed 003's queue length: two servers drawn at random (by weight, distinct), and the one with fewer requests
/// in flight per unit of weight wins (ties go to the first draw, itself random).
///
/// On an http listener a server's in-flight count is its requests being answered, so a server that holds requests
/// longer (a slow model, a long queue) has more of them open and loses most draws; on a tcp listener it is its open
/// connections. Two random candidates instead of the global minimum keep the loops of relayd (and several relayd
/// nodes) from all sending the next burst to the same "emptiest" server.
public final class LeastRequestsBalancer: Balancer {
    private let random: SplitMix64

    /// `seed` fixes the sequence (tests); nil seeds from the system generator.
    public init(seed: UInt64? = nil) {
        random = SplitMix64(seed: seed)
    }

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        guard let (first, drawn) = random.drawTwo(from: set.servers, excluding: excluded) else { return nil }
        guard let second = drawn else { return first }
        // a.inFlight / a.weight < b.inFlight / b.weight, cross-multiplied.
        let firstLoad = max(0, first.inFlight.load(ordering: .relaxed)) * second.weight
        let secondLoad = max(0, second.inFlight.load(ordering: .relaxed)) * first.weight
        return secondLoad < firstLoad ? second : first
    }
}
