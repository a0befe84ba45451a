import Testing
import TestSupport
@testable import RelayProtocol

/// Two sessions over a simulated link that loses 10%, duplicates, delays with jitter and reorders: everything
/// sent arrives once, in order, intact; and a receiver that stops reading holds both sides' memory bounded.
///
/// The two long runs use the fast stand-in cryptography; the others run ChaCha20-Poly1305 end to end.
@Suite(.computeBound) struct ReliableSessionSimulationTests {
    typealias F = ReliableFixtures

    /// Sends `counts` messages each way (sizes from `size`), reading as they arrive, and returns what each side
    /// received.
    static func exchange(_ simulation: inout ReliableLinkSimulation, count: Int, size: (Int) -> Int,
                         deadline: UInt64) -> (atServer: [[UInt8]], atClient: [[UInt8]]) {
        var nextFromClient = 0
        var nextFromServer = 0
        var atServer: [[UInt8]] = []
        var atClient: [[UInt8]] = []
        while atServer.count < count || atClient.count < count {
            while nextFromClient < count, simulation.client.canSend {
                try? simulation.client.send(F.message(nextFromClient, size: size(nextFromClient), side: 0),
                                            now: simulation.now)
                nextFromClient += 1
            }
            while nextFromServer < count, simulation.server.canSend {
                try? simulation.server.send(F.message(nextFromServer, size: size(nextFromServer), side: 1),
                                            now: simulation.now)
                nextFromServer += 1
            }
            atServer += F.takeAll(&simulation.server)
            atClient += F.takeAll(&simulation.client)
            guard simulation.now < deadline, simulation.step() else { break }
        }
        return (atServer, atClient)
    }

    @Test func tenThousandMessagesEachWayArriveOnceInOrderOverALossyReorderingLink() {
        let (client, server) = F.pair(cryptography: F.fastCryptography)
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0001)
        let count = 10_000
        // Mostly small messages, every seventh spanning two or three fragments.
        let size = { (index: Int) in index % 7 == 0 ? 1200 + index % 1500 : 8 + index % 300 }
        let (atServer, atClient) = Self.exchange(&simulation, count: count, size: size, deadline: 3_600 * F.second)

        #expect(atServer.count == count)
        #expect(atClient.count == count)
        #expect(atServer == (0..<count).map { F.message($0, size: size($0), side: 0) })
        #expect(atClient == (0..<count).map { F.message($0, size: size($0), side: 1) })
        #expect(simulation.client.state == .open && simulation.server.state == .open)
        // The link did what it says, and the sessions saw it.
        #expect(simulation.lost > 0 && simulation.duplicated > 0)
        let stats = [simulation.client.stats, simulation.server.stats]
        #expect(stats.allSatisfy { $0.retransmitted > 0 && $0.fastRetransmits > 0 && $0.replayed > 0 })
        #expect(stats.allSatisfy { $0.outOfOrder > 0 && $0.badTag == 0 && $0.malformed == 0 })
        #expect(stats.allSatisfy { $0.messagesAcknowledged <= UInt64(count) && $0.messagesReceived == UInt64(count) })
    }

    @Test(arguments: [1, 1200, 65_507, 0])
    func messagesOfEverySizeArriveIntactOverALossyLink(size: Int) {
        let (client, server) = F.pair()
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0100 + UInt64(size))
        let (atServer, atClient) = Self.exchange(&simulation, count: 20, size: { _ in size }, deadline: 600 * F.second)
        #expect(atServer == (0..<20).map { F.message($0, size: size, side: 0) })
        #expect(atClient == (0..<20).map { F.message($0, size: size, side: 1) })
    }

    @Test func largeMessagesArriveIntactWithTheSmallestPacketSize() {
        let (client, server) = F.pair(parameters: .init(maxPacketSize: ReliableWire.minPacketSize))
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0200)
        let sizes = [65_507, 1, 64, 65, 128, 30_000]
        let (atServer, atClient) = Self.exchange(
            &simulation, count: sizes.count, size: { sizes[$0] }, deadline: 600 * F.second)
        #expect(atServer == sizes.indices.map { F.message($0, size: sizes[$0], side: 0) })
        #expect(atClient == sizes.indices.map { F.message($0, size: sizes[$0], side: 1) })
    }

    @Test func unencryptedSessionsDeliverTheSameOverTheSameLink() {
        let (client, server) = F.pair(parameters: .init(encrypted: false))
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0300)
        let (atServer, atClient) = Self.exchange(&simulation, count: 500, size: { 10 + $0 }, deadline: 600 * F.second)
        #expect(atServer == (0..<500).map { F.message($0, size: 10 + $0, side: 0) })
        #expect(atClient == (0..<500).map { F.message($0, size: 10 + $0, side: 1) })
    }

    @Test func aReceiverThatStopsReadingHoldsBothSidesMemoryBoundedAndLosesNothing() {
        let reassembly = Reassembler.Configuration(window: 64, maxBufferedBytes: 128 * 1024)
        let configuration = ReliableSessionConfiguration(
            maxQueuedMessages: 100, maxQueuedBytes: 256 * 1024, reassembly: reassembly)
        let (client, server) = F.pair(configuration: configuration, cryptography: F.fastCryptography)
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0400)
        let size = { (index: Int) in index % 5 == 0 ? 5000 : 700 }
        var sent = 0
        var refused = 0
        var peakReceiverBytes = 0
        var peakSenderBytes = 0
        // Two simulated minutes of a sender that always has more while the server's application reads nothing.
        while simulation.now < 120 * F.second {
            while simulation.client.canSend {
                try? simulation.client.send(F.message(sent, size: size(sent), side: 0), now: simulation.now)
                sent += 1
            }
            do {
                try simulation.client.send([1, 2, 3], now: simulation.now)
            } catch {
                #expect(error == .wouldBlock)
                refused += 1
            }
            peakReceiverBytes = max(peakReceiverBytes, simulation.server.receiveBufferedBytes)
            peakSenderBytes = max(peakSenderBytes, simulation.client.queuedBytes)
            let stepped = simulation.step()
            #expect(stepped)
        }
        #expect(refused > 0)
        #expect(!simulation.client.canSend)
        #expect(peakReceiverBytes <= reassembly.maxBufferedBytes + ReliableWire.maxMessageSize)
        #expect(peakSenderBytes <= configuration.maxQueuedBytes + ReliableWire.maxMessageSize)
        #expect(simulation.server.messagesReady <= Int(reassembly.window))
        #expect(simulation.client.state == .open && simulation.server.state == .open)
        // Probes went out while the window was shut, and not a flood of them.
        #expect(simulation.client.stats.pingsSent > 0 && simulation.client.stats.pingsSent < 200)

        // The application reads again: every message arrives, in order.
        var received: [[UInt8]] = []
        let deadline = simulation.now + 600 * F.second
        while received.count < sent, simulation.now < deadline {
            received += F.takeAll(&simulation.server)
            _ = simulation.step()
        }
        #expect(received.count == sent)
        #expect(received == (0..<sent).map { F.message($0, size: size($0), side: 0) })
    }

    @Test func aReceiveBudgetSmallerThanTheWindowDropsFragmentsAndStillDeliversEverything() {
        // 16 KiB of budget against a window of 64 messages of 3,000 bytes: most fragments find no room at
        // first, go unacknowledged, and are sent again once the application has read.
        let configuration = ReliableSessionConfiguration(reassembly: .init(window: 64, maxBufferedBytes: 16 * 1024))
        let (client, server) = F.pair(configuration: configuration, cryptography: F.fastCryptography)
        var simulation = ReliableLinkSimulation(client: client, server: server, seed: 0x5EED_0500)
        simulation.lossPercent = 0
        for index in 0..<60 { try? simulation.client.send(F.message(index, size: 3000, side: 0), now: 0) }
        while simulation.now < 2 * F.second, simulation.step() {}
        #expect(simulation.server.stats.overBudget > 0)
        #expect(simulation.server.receiveBufferedBytes <= 16 * 1024 + ReliableWire.maxMessageSize)
        var received: [[UInt8]] = []
        while received.count < 60, simulation.now < 600 * F.second {
            received += F.takeAll(&simulation.server)
            _ = simulation.step()
        }
        #expect(received == (0..<60).map { F.message($0, size: 3000, side: 0) })
        #expect(simulation.client.state == .open)
    }
}
