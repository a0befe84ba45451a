import RelayIO

/// Power of two choices over a latency-and-load cost: draw two distinct servers (weighted by weight)
/// and send the connection to the cheaper one.
///
/// Cost = latency × (inFlight + 1) / weight, where latency is the server's `latencyEstimateNanos`
/// (the EWMA the Scoreboard publishes). The `+ 1` counts the connection being placed, so an idle
/// server still pays for its latency and a loaded fast server can lose to an idle slower one. A
/// server without a sample yet (0) is costed at the smallest non-zero estimate in the set, or at 1
/// when nobody has one: optimistic, so a new server gets traffic and thus samples, but not free, so
/// it cannot swallow every connection before its first sample arrives.
///
/// Comparing two random candidates instead of scanning for the global minimum keeps the cost of a
/// pick independent of stale estimates herding every loop onto the same "best" server at once.
///
/// The two draws must be distinct. Drawing with replacement lets the same server be both candidates,
/// and then it wins whatever its cost: with two servers, one slow, the slow one would be "chosen" by
/// itself whenever both draws hit it, a quarter of all connections; with three servers, one slow, a
/// ninth. Without replacement a server is only ever picked by beating another one, so the slowest
/// of several equally loaded servers gets nothing.
public final class P2CEWMABalancer: Balancer {
    private let random: SplitMix64

    /// `seed` fixes the sequence (tests); nil seeds from the system generator.
    public init(seed: UInt64? = nil) {
        random = SplitMix64(seed: seed)
    }

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        guard let (first, drawn) = random.drawTwo(from: set.servers, excluding: excluded) else { return nil }
        guard let second = drawn else { return first }
        var firstLatency = first.latencyEstimateNanos.load(ordering: .relaxed)
        var secondLatency = second.latencyEstimateNanos.load(ordering: .relaxed)
        if firstLatency == 0 || secondLatency == 0 {
            let standIn = Self.smallestSample(in: set.servers)
            if firstLatency == 0 { firstLatency = standIn }
            if secondLatency == 0 { secondLatency = standIn }
        }
        let firstCost = Self.cost(first, latency: firstLatency)
        let secondCost = Self.cost(second, latency: secondLatency)
        // Ties go to the first draw, which is itself random.
        return secondCost < firstCost ? second : first
    }

    /// Latency × (inFlight + 1) / weight, in floating point: the product of nanoseconds, connections
    /// and weights can exceed 64 bits, and relative precision is all a comparison needs.
    private static func cost(_ server: ServerHandle, latency: UInt64) -> Double {
        let load = max(0, server.inFlight.load(ordering: .relaxed))
        return Double(latency) * Double(load + 1) / Double(server.weight)
    }

    /// The smallest non-zero latency estimate among `servers`, or 1 when none has a sample.
    private static func smallestSample(in servers: [ServerHandle]) -> UInt64 {
        var smallest = UInt64.max
        for server in servers {
            let latency = server.latencyEstimateNanos.load(ordering: .relaxed)
            if latency != 0 && latency < smallest { smallest = latency }
        }
        return smallest == .max ? 1 : smallest
    }
}
