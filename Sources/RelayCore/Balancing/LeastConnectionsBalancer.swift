import RelayIO
import Synchronization

/// The server with the fewest open connections per unit of weight; ties are shared out in turn.
///
/// Loads are compared by cross-multiplication (`a.inFlight · b.weight < b.inFlight · a.weight`), exact
/// and without division. Ties matter: right after start, or with long idle periods, every server has
/// the same count, and always taking the first would pile every burst onto it. So a pick makes two
/// passes: the first finds the least load and how many servers share it, the second takes the
/// `turn % ties`-th of them, with `turn` a shared counter. Equal servers therefore alternate exactly
/// (a scan starting at a rotating offset would not: the tied server after an untied one would win
/// twice as often). Counts that move between the passes only make the second pass fall back to the
/// first pass's winner.
public final class LeastConnectionsBalancer: Balancer {
    /// Picks so far; chooses among tied servers.
    private let turn = Atomic<UInt>(0)

    public init() {}

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        var best: ServerHandle?
        var bestLoad = 0
        var ties: UInt = 0
        for server in set.servers {
            if !excluded.isEmpty && excluded.contains(server) { continue }
            let load = max(0, server.inFlight.load(ordering: .relaxed))
            guard let current = best else {
                best = server
                bestLoad = load
                ties = 1
                continue
            }
            switch Self.compare(load, server.weight, bestLoad, current.weight) {
            case .less:
                best = server
                bestLoad = load
                ties = 1
            case .equal:
                ties += 1
            case .greater:
                break
            }
        }
        guard let first = best else { return nil }
        if ties == 1 { return first }
        var wanted = turn.wrappingAdd(1, ordering: .relaxed).oldValue % ties
        for server in set.servers {
            if !excluded.isEmpty && excluded.contains(server) { continue }
            let load = max(0, server.inFlight.load(ordering: .relaxed))
            if Self.compare(load, server.weight, bestLoad, first.weight) == .equal {
                if wanted == 0 { return server }
                wanted -= 1
            }
        }
        return first
    }

    private enum Order { case less, equal, greater }

    /// Orders `loadA / weightA` against `loadB / weightB` exactly, in full width so no product overflows.
    private static func compare(_ loadA: Int, _ weightA: Int, _ loadB: Int, _ weightB: Int) -> Order {
        let lhs = loadA.multipliedFullWidth(by: weightB)
        let rhs = loadB.multipliedFullWidth(by: weightA)
        if lhs.high != rhs.high { return lhs.high < rhs.high ? .less : .greater }
        if lhs.low != rhs.low { return lhs.low < rhs.low ? .less : .greater }
        return .equal
    }
}
