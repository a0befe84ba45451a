/// A consistent-hash ring over one active set: `pointsPerWeight` virtual nodes per unit of weight
/// for each server, sorted by hash.
///
/// Node `i` of a server sits at FNV-1a("\(server.id)#\(i)"); a key belongs to the first node at or
/// after its hash, wrapping past the top. Because a server's nodes depend only on its id and weight,
/// removing a server moves only the keys it owned (each to the next server clockwise), and adding it
/// back restores them. The layout does not depend on the set's order: servers are indexed by id, and
/// two nodes with the same hash are ordered by that index.
///
/// Immutable once built, so the balancer can share it between threads and swap in a new one when the
/// set changes.
final class HashRing: Sendable {
    /// Virtual nodes per unit of weight (as in the 003 seed).
    static let pointsPerWeight = 100
    /// The most nodes one ring may hold (8 MB). Beyond it every server's node count is scaled down
    /// in proportion to its weight (at least one node each): shares stay proportional, but a set
    /// change then moves more than the keys of the servers that changed, since everyone's scale moves.
    static let maxPoints = 1_000_000

    /// Generation of the set the ring was built from.
    let generation: UInt64
    /// That set's servers, sorted by id; node entries refer to them by index.
    let servers: [ServerHandle]
    /// Number of servers in the set the ring was built from (duplicates included).
    let setCount: Int
    /// The nodes, ascending: hash in the high 32 bits, server index in the low 32.
    private let points: [UInt64]

    /// Builds the ring of `set`; `maxPoints` is lowered only by tests.
    init(_ set: ActiveSet, maxPoints: Int = HashRing.maxPoints) {
        generation = set.generation
        setCount = set.servers.count
        servers = set.servers.sorted { $0.id < $1.id }
        let totalWeight = servers.reduce(0.0) { $0 + Double($1.weight) }
        let scaled = totalWeight * Double(Self.pointsPerWeight) > Double(maxPoints)
        var points: [UInt64] = []
        points.reserveCapacity(Int(min(totalWeight * Double(Self.pointsPerWeight), Double(maxPoints))) + servers.count)
        for (index, server) in servers.enumerated() {
            let count = scaled
                ? max(1, Int(Double(server.weight) * Double(maxPoints) / totalWeight))
                : server.weight * Self.pointsPerWeight
            var prefix = FNV1a32()
            prefix.add(server.id.utf8)
            prefix.add(UInt8(ascii: "#"))
            for node in 0..<count {
                var hasher = prefix
                hasher.add(decimal: node)
                points.append(UInt64(hasher.value) << 32 | UInt64(index))
            }
        }
        points.sort()
        self.points = points
    }

    /// Number of virtual nodes.
    var pointCount: Int { points.count }

    /// The owner of `hash`, or when it is excluded the next distinct server clockwise that is not;
    /// nil when every server is excluded.
    func server(for hash: UInt32, excluding excluded: [ServerHandle]) -> ServerHandle? {
        guard !points.isEmpty else { return nil }
        let key = UInt64(hash) << 32
        var low = 0
        var high = points.count
        while low < high {
            let middle = low + (high - low) / 2
            if points[middle] < key { low = middle + 1 } else { high = middle }
        }
        var position = low == points.count ? 0 : low
        if excluded.isEmpty { return servers[serverIndex(at: position)] }
        guard servers.contains(where: { !excluded.contains($0) }) else { return nil }
        var checked = -1
        for _ in 0..<points.count {
            let index = serverIndex(at: position)
            if index != checked {
                if !excluded.contains(servers[index]) { return servers[index] }
                checked = index
            }
            position += 1
            if position == points.count { position = 0 }
        }
        return nil
    }

    private func serverIndex(at position: Int) -> Int {
        Int(truncatingIfNeeded: points[position] & 0xFFFF_FFFF)
    }
}
