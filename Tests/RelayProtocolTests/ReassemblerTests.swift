import Testing
@testable import RelayProtocol

/// Fragments to messages, in order, within the window and the byte budget.
@Suite struct ReassemblerTests {
    @Test func singleFragmentMessagesComeOutInOrderWhateverOrderTheyArriveIn() {
        var reassembler = Reassembler()
        #expect(reassembler.insert(sequence: 2, index: 0, count: 1, bytes: [2]) == .accepted(ahead: true))
        #expect(reassembler.insert(sequence: 3, index: 0, count: 1, bytes: [3]) == .accepted(ahead: true))
        #expect(reassembler.take() == nil)
        #expect(reassembler.insert(sequence: 1, index: 0, count: 1, bytes: [1]) == .accepted(ahead: false))
        #expect([reassembler.take(), reassembler.take(), reassembler.take(), reassembler.take()] == [[1], [2], [3], nil])
        #expect(reassembler.nextSequence == 4 && reassembler.bufferedBytes == 0)
    }

    @Test func fragmentsJoinInIndexOrder() {
        var reassembler = Reassembler()
        #expect(reassembler.insert(sequence: 1, index: 2, count: 3, bytes: [5, 6]) == .accepted(ahead: false))
        #expect(reassembler.insert(sequence: 1, index: 0, count: 3, bytes: [1, 2]) == .accepted(ahead: false))
        #expect(reassembler.take() == nil)
        #expect(reassembler.insert(sequence: 1, index: 1, count: 3, bytes: [3, 4]) == .accepted(ahead: false))
        #expect(reassembler.take() == [1, 2, 3, 4, 5, 6])
        #expect(reassembler.bufferedBytes == 0)
    }

    @Test func duplicatesAreRecognisedBeforeAndAfterDelivery() {
        var reassembler = Reassembler()
        _ = reassembler.insert(sequence: 1, index: 0, count: 2, bytes: [1])
        #expect(reassembler.insert(sequence: 1, index: 0, count: 2, bytes: [1]) == .duplicate)
        _ = reassembler.insert(sequence: 1, index: 1, count: 2, bytes: [2])
        #expect(reassembler.insert(sequence: 1, index: 1, count: 2, bytes: [2]) == .duplicate)
        _ = reassembler.take()
        #expect(reassembler.insert(sequence: 1, index: 0, count: 2, bytes: [1]) == .duplicate)
        _ = reassembler.insert(sequence: 3, index: 0, count: 1, bytes: [3])
        #expect(reassembler.insert(sequence: 3, index: 0, count: 1, bytes: [3]) == .duplicate)
    }

    @Test func contradictionsAreInconsistent() {
        var reassembler = Reassembler()
        _ = reassembler.insert(sequence: 1, index: 0, count: 2, bytes: [1])
        #expect(reassembler.insert(sequence: 1, index: 1, count: 3, bytes: [2]) == .inconsistent)
        #expect(reassembler.insert(sequence: 0, index: 0, count: 1, bytes: [2]) == .inconsistent)
        #expect(reassembler.insert(sequence: 2, index: 1, count: 1, bytes: [2]) == .inconsistent)
        let big = [UInt8](repeating: 7, count: 40_000)
        _ = reassembler.insert(sequence: 2, index: 0, count: 2, bytes: big)
        #expect(reassembler.insert(sequence: 2, index: 1, count: 2, bytes: big) == .inconsistent)
    }

    @Test func theReceiveLimitFollowsWhatTheApplicationTakes() {
        var reassembler = Reassembler(configuration: .init(window: 16))
        #expect(reassembler.receiveLimit == 17)
        #expect(reassembler.insert(sequence: 17, index: 0, count: 1, bytes: [0]) == .beyondLimit)
        for sequence in UInt32(1)...16 { _ = reassembler.insert(sequence: sequence, index: 0, count: 1, bytes: [0]) }
        // Complete but not taken: the limit stays.
        #expect(reassembler.receiveLimit == 17 && reassembler.readyCount == 16)
        _ = reassembler.take()
        _ = reassembler.take()
        #expect(reassembler.receiveLimit == 19)
        #expect(reassembler.insert(sequence: 18, index: 0, count: 1, bytes: [0]) == .accepted(ahead: true))
        #expect(reassembler.insert(sequence: 19, index: 0, count: 1, bytes: [0]) == .beyondLimit)
    }

    @Test func theBudgetRefusesAheadButNeverTheNextMessageWhileNothingWaits() {
        let budget = 3 * (1000 + Reassembler.fragmentOverhead)
        var reassembler = Reassembler(configuration: .init(window: 64, maxBufferedBytes: budget))
        let kilobyte = [UInt8](repeating: 1, count: 1000)
        for sequence in UInt32(2)...4 {
            #expect(reassembler.insert(sequence: sequence, index: 0, count: 1, bytes: kilobyte) == .accepted(ahead: true))
        }
        #expect(reassembler.insert(sequence: 5, index: 0, count: 1, bytes: kilobyte) == .overBudget)
        // Message 1 is what everything waits for: it is taken over the budget.
        #expect(reassembler.insert(sequence: 1, index: 0, count: 2, bytes: kilobyte) == .accepted(ahead: false))
        #expect(reassembler.insert(sequence: 1, index: 1, count: 2, bytes: kilobyte) == .accepted(ahead: false))
        #expect(reassembler.readyCount == 4)
        // Now messages wait for the application: nothing more until it takes some.
        #expect(reassembler.insert(sequence: 5, index: 0, count: 1, bytes: kilobyte) == .overBudget)
        #expect(reassembler.take()?.count == 2000)
        #expect(reassembler.insert(sequence: 5, index: 0, count: 1, bytes: kilobyte) == .overBudget)
        #expect(reassembler.take()?.count == 1000)
        #expect(reassembler.insert(sequence: 5, index: 0, count: 1, bytes: kilobyte) == .accepted(ahead: false))
    }

    @Test func memoryStaysBoundedWhatever() {
        var random = HTTPFuzzRandom(seed: 1234)
        let configuration = Reassembler.Configuration(window: 128, maxBufferedBytes: 50_000)
        var reassembler = Reassembler(configuration: configuration)
        var peak = 0
        for round in 0..<20_000 {
            let sequence = reassembler.nextSequence + UInt32(random.below(140))
            let count = UInt16(1 + random.below(40))
            let index = UInt16(random.below(Int(count)))
            _ = reassembler.insert(sequence: sequence, index: index, count: count,
                                   bytes: [UInt8](repeating: 0, count: 1 + random.below(1500)))
            peak = max(peak, reassembler.bufferedBytes)
            if round % 3 == 0 { _ = reassembler.take() }
        }
        #expect(peak <= configuration.maxBufferedBytes + ReliableWire.maxMessageSize + 1024 * Reassembler.fragmentOverhead)
        #expect(reassembler.pendingCount <= Int(configuration.window))
    }
}
