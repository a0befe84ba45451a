import RelayIO

extension SplitMix64 {
    /// A server drawn from `servers` with probability proportional to its weight, leaving out
    /// `excluded` and `skipped`; nil when none is left.
    ///
    /// Two passes over the set (sum, then walk to the drawn point) and no allocation; with equal
    /// weights this is a uniform draw.
    borrowing func drawWeighted(from servers: [ServerHandle], excluding excluded: [ServerHandle],
                                skipping skipped: ServerHandle? = nil) -> ServerHandle? {
        var total: UInt64 = 0
        for server in servers where Self.isEligible(server, excluded, skipped) {
            total += UInt64(server.weight)
        }
        guard total > 0 else { return nil }
        var point = next(below: total)
        for server in servers where Self.isEligible(server, excluded, skipped) {
            let weight = UInt64(server.weight)
            if point < weight { return server }
            point -= weight
        }
        // Unreachable while the set is immutable; kept so a miscount can never crash the hot path.
        return nil
    }

    /// Two distinct servers drawn by weight, leaving out `excluded`: the candidates of a power-of-two-choices
    /// pick. The second is nil when only one server is eligible; nil when none is.
    borrowing func drawTwo(from servers: [ServerHandle], excluding excluded: [ServerHandle])
        -> (first: ServerHandle, second: ServerHandle?)? {
        guard let first = drawWeighted(from: servers, excluding: excluded) else { return nil }
        return (first, drawWeighted(from: servers, excluding: excluded, skipping: first))
    }

    private static func isEligible(_ server: ServerHandle, _ excluded: [ServerHandle],
                                   _ skipped: ServerHandle?) -> Bool {
        server !== skipped && (excluded.isEmpty || !excluded.contains(server))
    }
}
