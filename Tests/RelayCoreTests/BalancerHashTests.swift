import RelayIO
import Testing
@testable import RelayCore

@Suite struct BalancerHashTests {
    /// Where each of `clients` lands, by server id.
    private func owners(_ clients: [IPKey], in set: ActiveSet, balancer: ConsistentHashBalancer = .init()) -> [String] {
        clients.map { balancer.pick(from: set, client: $0, excluding: [])?.id ?? "none" }
    }

    @Test(arguments: [("", 0x811C_9DC5), ("a", 0xE40C_292C), ("foobar", 0xBF9C_F968)] as [(String, UInt32)])
    func fnvMatchesReferenceVectors(text: String, expected: UInt32) {
        #expect(FNV1a32.hash(text.utf8) == expected)
    }

    @Test func hashesIPBytesInNetworkOrder() {
        #expect(FNV1a32.hash(ipKey("1.2.3.4")) == FNV1a32.hash([1, 2, 3, 4] as [UInt8]))
        let v6: [UInt8] = [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xAB, 0xCD]
        #expect(FNV1a32.hash(ipKey("2001:db8::abcd")) == FNV1a32.hash(v6))
    }

    @Test(arguments: [0, 7, 10, 99, 100, 12_345])
    func virtualNodeHashEqualsHashOfFormattedName(node: Int) {
        var hasher = FNV1a32()
        hasher.add("web/10.0.0.1:9000#".utf8)
        hasher.add(decimal: node)
        #expect(hasher.value == FNV1a32.hash("web/10.0.0.1:9000#\(node)".utf8))
    }

    @Test func sameClientKeepsItsServerAcrossRepublishedSets() {
        var generator = SeededGenerator(seed: 11)
        let servers = makeServers(count: 10)
        let clients = randomIPv4Keys(500)
        let balancer = ConsistentHashBalancer()
        let first = owners(clients, in: ActiveSet(servers: servers, generation: 1), balancer: balancer)
        #expect(owners(clients, in: ActiveSet(servers: servers, generation: 1), balancer: balancer) == first)
        let reordered = ActiveSet(servers: servers.shuffled(using: &generator), generation: 2)
        #expect(owners(clients, in: reordered, balancer: balancer) == first)
        #expect(Set(first).count == 10)
    }

    @Test func removingServerMovesOnlyItsClientsAndAddingItBackRestoresThem() {
        var generator = SeededGenerator(seed: 12)
        let servers = makeServers(count: 10)
        let removed = servers[3]
        let clients = randomIPv4Keys(10_000)
        let balancer = ConsistentHashBalancer()
        let before = owners(clients, in: ActiveSet(servers: servers, generation: 1), balancer: balancer)
        let without = ActiveSet(servers: servers.filter { $0 !== removed }, generation: 2)
        let after = owners(clients, in: without, balancer: balancer)
        let moved = zip(before, after).filter { $0 != $1 }
        #expect(moved.allSatisfy { $0.0 == removed.id })
        #expect(moved.count == before.count { $0 == removed.id })
        #expect((500...1_500).contains(moved.count), "\(moved.count) of 10,000 moved")
        let restored = ActiveSet(servers: servers.shuffled(using: &generator), generation: 3)
        #expect(owners(clients, in: restored, balancer: balancer) == before)
    }

    @Test func doubleWeightRoughlyDoublesTheShare() {
        var weights = Array(repeating: 1, count: 10)
        weights[0] = 2
        let set = ActiveSet(servers: makeServers(weights), generation: 1)
        let clients = randomIPv4Keys(10_000, seed: 13)
        let share = Double(owners(clients, in: set).count { $0 == set.servers[0].id }) / 10_000
        let expected = 2.0 / 11.0
        #expect(share > expected * 0.7 && share < expected * 1.3, "share \(share), expected about \(expected)")
    }

    @Test func ipv6ClientsSpreadOverEveryServer() {
        // Addresses differing only in their last two bytes: the whole address must be hashed.
        let set = ActiveSet(servers: makeServers(count: 10), generation: 1)
        let clients = (0..<2_000).map { ipKey("2001:db8::\(String($0 * 31 + 1, radix: 16))") }
        let found = owners(clients, in: set)
        let counts = set.servers.map { server in found.count { $0 == server.id } }
        #expect(counts.allSatisfy { $0 > 0 && $0 < 500 }, "\(counts)")
        #expect(owners(clients, in: set) == found)
    }

    @Test func excludedOwnerHandsOverToWhereRemovalWouldSendTheClient() throws {
        let servers = makeServers(count: 8)
        let full = ActiveSet(servers: servers, generation: 1)
        let balancer = ConsistentHashBalancer()
        let withoutEach = servers.map { server in
            (set: ActiveSet(servers: servers.filter { $0 !== server }, generation: 1), balancer: ConsistentHashBalancer())
        }
        for client in randomIPv4Keys(1_000, seed: 14) {
            let owner = try #require(balancer.pick(from: full, client: client, excluding: []))
            let fallback = balancer.pick(from: full, client: client, excluding: [owner])
            let removal = withoutEach[try #require(servers.firstIndex(of: owner))]
            #expect(fallback != nil && fallback !== owner)
            #expect(fallback === removal.balancer.pick(from: removal.set, client: client, excluding: []))
        }
        #expect(balancer.pick(from: full, client: ipKey("10.9.8.7"), excluding: servers) == nil)
    }

    @Test func withoutClientIPFallsBackToRoundRobin() {
        let set = ActiveSet(servers: makeServers(count: 3), generation: 1)
        #expect(ConsistentHashBalancer().positions(6, from: set) == [0, 1, 2, 0, 1, 2])
    }

    @Test func ringIsBuiltOncePerGeneration() {
        let servers = makeServers(count: 4)
        let balancer = ConsistentHashBalancer()
        let first = balancer.ring(for: ActiveSet(servers: servers, generation: 1))
        #expect(balancer.ring(for: ActiveSet(servers: servers, generation: 1)) === first)
        #expect(first.pointCount == 400)
        let next = balancer.ring(for: ActiveSet(servers: servers, generation: 2))
        #expect(next !== first && next.generation == 2)
    }

    @Test func ringBeyondItsCapScalesEveryServerInProportion() {
        let servers = makeServers([30, 10, 20, 1])
        let ring = HashRing(ActiveSet(servers: servers, generation: 1), maxPoints: 1_000)
        // 6,100 nodes wanted; scaled to 1,000 · weight / 61, rounded down, and at least 1.
        #expect(ring.pointCount == 491 + 163 + 327 + 16)
        let uncapped = HashRing(ActiveSet(servers: servers, generation: 1), maxPoints: 6_100)
        #expect(uncapped.pointCount == 6_100)
        let tiny = HashRing(ActiveSet(servers: makeServers([1_000, 1]), generation: 1), maxPoints: 100)
        #expect(tiny.pointCount == 99 + 1)
    }
}
