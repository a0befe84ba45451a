import RelayIO
@testable import RelayCore

/// Servers `web/10.0.0.1:9000`, `web/10.0.0.1:9001`, ... with the given weights.
func makeServers(_ weights: [Int], group: String = "web") -> [ServerHandle] {
    weights.enumerated().map { index, weight in
        ServerHandle(group: group, address: try! SocketAddress(ip: "10.0.0.1", port: UInt16(9000 + index)),
                     weight: weight)
    }
}

/// `count` servers of weight 1.
func makeServers(count: Int) -> [ServerHandle] {
    makeServers(Array(repeating: 1, count: count))
}

/// An active set of servers with these weights and these counts in flight.
func activeSet(_ weights: [Int], inFlight: [Int]) -> ActiveSet {
    let servers = makeServers(weights)
    for (server, count) in zip(servers, inFlight) { server.inFlight.store(count, ordering: .relaxed) }
    return ActiveSet(servers: servers, generation: 1)
}

/// The key of an IP literal.
func ipKey(_ text: String) -> IPKey {
    try! SocketAddress(ip: text, port: 0).ipKey
}

extension Balancer {
    /// `count` picks in a row, as positions in `set.servers` (-1 for nil).
    func positions(_ count: Int, from set: ActiveSet, client: IPKey? = nil,
                   excluding excluded: [ServerHandle] = []) -> [Int] {
        (0..<count).map { _ in
            pick(from: set, client: client, excluding: excluded).flatMap { set.servers.firstIndex(of: $0) } ?? -1
        }
    }

    /// How many of `count` picks went to each server of `set`, by position.
    func tally(_ count: Int, from set: ActiveSet, client: IPKey? = nil,
               excluding excluded: [ServerHandle] = []) -> [Int] {
        var counts = Array(repeating: 0, count: set.servers.count)
        for position in positions(count, from: set, client: client, excluding: excluded) where position >= 0 {
            counts[position] += 1
        }
        return counts
    }
}

/// A fixed-seed generator for test inputs (xorshift64*), independent of the code under test.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed == 0 ? 0x2545_F491_4F6C_DD1D : seed
    }

    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

/// `count` distinct-enough random IPv4 keys from a fixed seed.
func randomIPv4Keys(_ count: Int, seed: UInt64 = 7) -> [IPKey] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let value = UInt32.random(in: 0...UInt32.max, using: &generator)
        return ipKey("\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)")
    }
}
