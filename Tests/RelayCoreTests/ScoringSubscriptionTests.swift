import Testing
@testable import RelayCore

/// A supervised consumer that restarts must keep receiving hard failures: a cancelled consumer finishes
/// its stream, so each run subscribes anew.
@Suite struct ScoringSubscriptionTests {
    @Test func aNewSubscriptionReceivesHardFailuresAfterTheFirstConsumerWasCancelled() async throws {
        let server = scoringServer(9101)
        let board = Scoreboard(servers: [server])
        let first = await board.subscribeToHardFailures()
        let consumer = Task { for await _ in first {} }
        consumer.cancel()
        await consumer.value

        let second = await board.subscribeToHardFailures()
        await board.recordPassive(server, .connectFailed("connect: Connection refused"))
        var iterator = second.makeAsyncIterator()
        let failed = await iterator.next()
        #expect(failed === server)
    }

    @Test func urgentSamplesReachTheLatestSubscriber() async {
        let queue = PassiveSampleQueue(capacity: 4)
        let server = scoringServer(9102)
        let stale = queue.subscribeToUrgentSamples()
        let fresh = queue.subscribeToUrgentSamples()
        queue.append(server, .connected(.milliseconds(1)))
        queue.append(server, .connectFailed("refused"))
        var staleIterator = stale.makeAsyncIterator()
        #expect(await staleIterator.next() == nil)  // finished by the newer subscription
        var freshIterator = fresh.makeAsyncIterator()
        #expect(await freshIterator.next() != nil)
        #expect(queue.drain().count == 2)
        for _ in 0..<6 { queue.append(server, .connected(.milliseconds(1))) }
        #expect(queue.dropped == 2)
    }
}
