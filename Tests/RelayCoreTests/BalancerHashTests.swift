import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite(.computeBound) struct BalancerHashTests {
    /// Where each of `clients` lands, by server id.
    private func owners(_ clients: [IPKey], in set: ActiveSet, balancer: ConsistentHashBalancer = .init()) -> [String] {
        clients.map { balancer.pick(from: set, client: $0, excluding: [])?.id ?? "none" }
    }

    @Test(arguments: [("", 0xCBF2_9CE4_8422_2325), ("a", 0xAF63_DC4C_8601_EC8C), ("foobar", 0x8594_4171_F739_67E8)]
          as [(String, UInt64)])
    func fnvMatchesReferenceVectors(text: String, expected: UInt64) {
        #expect(FNV1a64.hash(text.utf8) == expected)
    }

    @Test func ringPositionMixesTheAddressAsANumberInNetworkOrder() {
        #expect(ipKey("1.2.3.4").ringPosition == SplitMix64.mix(0x0102_0304))
        #expect(ipKey("2001:db8::abcd").ringPosition == SplitMix64.mix(SplitMix64.mix(0x2001_0DB8_0000_0000) ^ 0xABCD))
    }

    @Test func flippingAnyAddressBitFlipsAboutHalfThePositionBits() {
        // The avalanche that spreads a subnet: whichever input bit flips, the position changes in 32 of
        // its 64 bits on average (200 addresses: the mean's standard deviation is 0.3 bit).
        var generator = SeededGenerator(seed: 15)
        let v4 = (0..<200).map { _ in UInt32.random(in: 0...UInt32.max, using: &generator) }
        for bit in 0..<32 {
            let flipped = v4.map { ipKey(ipv4Text($0)).ringPosition ^ ipKey(ipv4Text($0 ^ 1 << bit)).ringPosition }
            let mean = Double(flipped.map(\.nonzeroBitCount).reduce(0, +)) / 200
            #expect((30...34).contains(mean), "IPv4 bit \(bit): \(mean) bits flipped on average")
        }
        let v6 = (0..<200).map { _ in (0..<8).map { _ in UInt16.random(in: 0...UInt16.max, using: &generator) } }
        for bit in 0..<128 {
            let flipped = v6.map { words in
                var changed = words
                changed[bit / 16] ^= 0x8000 >> (bit % 16)
                return ipKey(ipv6Text(words)).ringPosition ^ ipKey(ipv6Text(changed)).ringPosition
            }
            let mean = Double(flipped.map(\.nonzeroBitCount).reduce(0, +)) / 200
            #expect((30...34).contains(mean), "IPv6 bit \(bit): \(mean) bits flipped on average")
        }
    }

    @Test(arguments: AddressRun.all)
    func fortyNeighboursReachEveryOneOfThreeServers(run: AddressRun) {
        // Issue 10's report: 40 clients of one /24 went 37, 3 and 0 over three servers. A uniform
        // hash leaves one of three servers without any of 40 clients about once in four million runs.
        let set = ActiveSet(servers: makeServers(count: 3), generation: 1)
        let found = owners((0..<40).map { ipKey(run.address($0)) }, in: set)
        let counts = set.servers.map { server in found.count { $0 == server.id } }
        #expect(counts.allSatisfy { $0 > 0 }, "\(counts)")
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

    @Test func tripleWeightTakesThreeQuartersAgainstOne() {
        let set = ActiveSet(servers: makeServers([3, 1]), generation: 1)
        let clients = randomIPv4Keys(10_000, seed: 16)
        let share = Double(owners(clients, in: set).count { $0 == set.servers[0].id }) / 10_000
        #expect(share > 0.7 && share < 0.8, "share \(share), expected about 0.75")
        let neighbours = (0..<1_024).map { ipKey(ipv4Text(0x0A01_0200 + UInt32($0))) }
        let neighbourShare = Double(owners(neighbours, in: set).count { $0 == set.servers[0].id }) / 1_024
        #expect(neighbourShare > 0.7 && neighbourShare < 0.8, "share \(neighbourShare) of 10.1.2.0-10.1.5.255")
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

    /// Servers and how many clients to spread over them. 256 clients are too few for ten servers: a
    /// perfectly uniform hash leaves some server outside 0.5–1.5× its share of 25.6 for about one run
    /// in 15 (binomial tails), so ten servers get 1,024 clients, where that chance is below 1 in 300,000.
    static let spreads: [(servers: Int, clients: Int)] = [(3, 256), (5, 256), (10, 1_024)]

    @Test(arguments: spreads, AddressRun.all)
    func clientsOfOneSubnetSpreadEvenly(spread: (servers: Int, clients: Int), run: AddressRun) {
        let set = ActiveSet(servers: makeServers(count: spread.servers), generation: 1)
        let found = owners((0..<spread.clients).map { ipKey(run.address($0)) }, in: set)
        let counts = set.servers.map { server in found.count { $0 == server.id } }
        let fair = Double(spread.clients) / Double(spread.servers)
        #expect(counts.allSatisfy { Double($0) >= fair * 0.5 && Double($0) <= fair * 1.5 },
                "\(counts) for a fair share of \(fair)")
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
        #expect(first.pointCount == 4 * HashRing.pointsPerWeight)
        let next = balancer.ring(for: ActiveSet(servers: servers, generation: 2))
        #expect(next !== first && next.generation == 2)
    }

    @Test func ringBeyondItsCapScalesEveryServerInProportion() {
        let servers = makeServers([30, 10, 20, 1])
        let ring = HashRing(ActiveSet(servers: servers, generation: 1), maxPoints: 1_000)
        // 61 · 160 = 9,760 nodes wanted; scaled to 1,000 · weight / 61, rounded down, and at least 1.
        #expect(ring.pointCount == 491 + 163 + 327 + 16)
        let uncapped = HashRing(ActiveSet(servers: servers, generation: 1), maxPoints: 9_760)
        #expect(uncapped.pointCount == 9_760)
        let tiny = HashRing(ActiveSet(servers: makeServers([1_000, 1]), generation: 1), maxPoints: 100)
        #expect(tiny.pointCount == 99 + 1)
    }
}

/// A run of client addresses close to each other: the case a weak key hash puts on one short arc.
struct AddressRun: Sendable, CustomTestStringConvertible {
    let testDescription: String
    /// The address of the run's `index`th client.
    let address: @Sendable (Int) -> String

    static let all: [AddressRun] = [
        AddressRun(testDescription: "10.1.2.0 counting up") { ipv4Text(0x0A01_0200 + UInt32($0)) },
        AddressRun(testDescription: "192.168.77.0 counting up") { ipv4Text(0xC0A8_4D00 + UInt32($0)) },
        AddressRun(testDescription: "203.0.113.128 counting up") { ipv4Text(0xCB00_7180 + UInt32($0)) },
        AddressRun(testDescription: "172.16.0.9, one per /24") { ipv4Text(0xAC10_0009 + UInt32($0) << 8) },
        AddressRun(testDescription: "2001:db8:: counting up") { "2001:db8::\(String($0, radix: 16))" },
        AddressRun(testDescription: "2001:db8:85a3::8a2e:370:7000 counting up") {
            "2001:db8:85a3::8a2e:370:\(String(0x7000 + $0, radix: 16))"
        },
        AddressRun(testDescription: "2001:db8:0:n::1, one per /64") { "2001:db8:0:\(String($0, radix: 16))::1" },
    ]
}

/// The dotted form of an IPv4 address given as a number.
private func ipv4Text(_ value: UInt32) -> String {
    "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
}

/// The text of an IPv6 address given as its eight 16-bit groups.
private func ipv6Text(_ groups: [UInt16]) -> String {
    groups.map { String($0, radix: 16) }.joined(separator: ":")
}
