import Testing
import TestSupport
@testable import RelayProtocol

/// Redundancy: each DATA packet sent twice, so that a lost one costs no retransmission round trip.
@Suite(.computeBound) struct ReliableRedundancyTests {
    typealias F = ReliableFixtures

    @Test func lossWindow_countsTheLastPacketsOnly() {
        var window = ReliableLossWindow()
        #expect(!window.reaches(0))
        window.record(lost: true)
        #expect(window.recorded == 1 && window.lost == 1 && window.reaches(1_000_000))
        for _ in 0..<(ReliableLossWindow.size - 1) { window.record(lost: false) }
        // One loss in 256: 0.39 %.
        #expect(window.reaches(3_900) && !window.reaches(4_000))
        window.record(lost: false)
        // The loss fell out of the window.
        #expect(window.lost == 0 && window.recorded == ReliableLossWindow.size && !window.reaches(0))
        for _ in 0..<2 { window.record(lost: true) }
        #expect(window.lost == 2 && window.reaches(ReliableRedundancy.defaultAdaptive.threshold))
    }

    @Test func configWords_mapToTheSessionSetting() {
        #expect(ReliableRedundancy.defaultAdaptive == .adaptive(lossThreshold: 5_000))
        #expect(ReliableRedundancy.off.name == "off" && ReliableRedundancy.always.name == "always")
    }

    /// 1,500 messages client to server, one every 20 ms, over a link with 10 ms each way that loses `loss` percent:
    /// how long each took from `send` to the server's `takeMessage`, and the client's counters.
    static func sparseStream(_ redundancy: ReliableRedundancy, loss: Int, seed: UInt64)
        -> (latencies: [UInt64], delivered: [[UInt8]], stats: ReliableSessionStats)
    {
        let (client, server) = F.pair(configuration: .init(redundancy: redundancy), cryptography: F.fastCryptography)
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: seed)
        simulation.lossPercent = loss
        simulation.duplicatePercent = 0
        simulation.reorderPercent = 0
        simulation.jitter = 0
        let count = 1_500
        var sentAt: [UInt64] = []
        var latencies: [UInt64] = []
        var delivered: [[UInt8]] = []
        func collect(_ simulation: inout ReliableLinkSimulation) {
            for message in F.takeAll(&simulation.server) {
                latencies.append(simulation.now - sentAt[delivered.count])
                delivered.append(message)
            }
        }
        for index in 0..<count {
            let due = F.second + UInt64(index) * 20 * F.millisecond
            while simulation.now < due, simulation.step(until: due) { collect(&simulation) }
            try? simulation.client.send(F.message(index, size: 100, side: 0), now: simulation.now)
            sentAt.append(simulation.now)
        }
        let deadline = simulation.now + 60 * F.second
        while delivered.count < count, simulation.now < deadline, simulation.step() { collect(&simulation) }
        return (latencies, delivered, simulation.client.stats)
    }

    static func percentile(_ values: [UInt64], _ fraction: Double) -> UInt64 {
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
    }

    @Test(.computeBound, arguments: [ReliableRedundancy.off, .defaultAdaptive, .always])
    func lossyLink_everythingArrivesInOrder_andRedundancyTakesTheRetransmissionsOutOfTheTail(
        redundancy: ReliableRedundancy) throws
    {
        let run = Self.sparseStream(redundancy, loss: 5, seed: 0x5EED_0700)
        #expect(run.delivered == (0..<1_500).map { F.message($0, size: 100, side: 0) })
        let p99 = Self.percentile(run.latencies, 0.99)
        switch redundancy {
        case .off:
            // 5 % of the messages wait for a retransmission: at least one more round trip (20 ms).
            #expect(p99 >= 30 * F.millisecond, "p99 \(p99 / 1_000) µs")
            #expect(run.stats.redundantCopies == 0)
        case .adaptive, .always:
            // Both copies are lost for about 0.25 % of the messages: the 99th percentile is the link's own delay.
            #expect(p99 <= 11 * F.millisecond, "p99 \(p99 / 1_000) µs")
            #expect(run.stats.redundantCopies > 0)
        }
        if redundancy == .always {
            #expect(run.stats.redundantCopies * 2 == run.stats.dataPacketsSent)
        }
    }

    @Test(.computeBound) func cleanLink_adaptiveSendsNoCopies() {
        let run = Self.sparseStream(.defaultAdaptive, loss: 0, seed: 0x5EED_0701)
        #expect(run.delivered.count == 1_500)
        #expect(run.stats.redundantCopies == 0)
        #expect(run.stats.dataPacketsSent == 1_500)
    }
}

extension ReliableRedundancy {
    /// The threshold of `adaptive`, for the tests.
    var threshold: Int {
        if case .adaptive(let threshold) = self { return threshold }
        return 0
    }
}
