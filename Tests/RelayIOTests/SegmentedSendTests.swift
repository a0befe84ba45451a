#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

/// `UDP_SEGMENT` sends: a run of slots goes through the kernel once and arrives as the same datagrams.
@Suite struct SegmentedSendTests {
    @Test func uniformSegmentAcceptsEqualSlotsWithAShorterLastOne() throws {
        let batch = DatagramBatch(capacity: 8, slotSize: 2_048)
        for seed in 0..<4 { #expect(batch.append(testDatagram(seed, size: 100), to: nil)) }
        #expect(batch.append(testDatagram(4, size: 37), to: nil))
        #expect(batch.uniformSegment(from: 0, to: 5) == 100)
        #expect(batch.uniformSegment(from: 1, to: 4) == 100)
        // A short slot anywhere but last breaks the run; so does a longer last one.
        #expect(batch.append(testDatagram(5, size: 100), to: nil))
        #expect(batch.uniformSegment(from: 0, to: 6) == nil)
        #expect(batch.append(testDatagram(6, size: 120), to: nil))
        #expect(batch.uniformSegment(from: 5, to: 7) == nil)
        #expect(batch.uniformSegment(from: 4, to: 5) == 37)
    }

    @Test func uniformSegmentRefusesMoreThanOneDatagramHolds() throws {
        let large = DatagramBatch(capacity: 3, slotSize: 40_000)
        for seed in 0..<2 { #expect(large.append(testDatagram(seed, size: 40_000), to: nil)) }
        #expect(large.uniformSegment(from: 0, to: 1) == 40_000)
        #expect(large.uniformSegment(from: 0, to: 2) == nil)
        let many = DatagramBatch(capacity: DatagramBatch.maximumSegments + 1, slotSize: 16)
        for seed in 0...DatagramBatch.maximumSegments { #expect(many.append(testDatagram(seed, size: 16), to: nil)) }
        #expect(many.uniformSegment(from: 0, to: DatagramBatch.maximumSegments) == 16)
        #expect(many.uniformSegment(from: 0, to: DatagramBatch.maximumSegments + 1) == nil)
    }

    @Test(arguments: ["127.0.0.1:0", "[::1]:0"])
    func aConnectedSocketsSegmentedSendArrivesAsTheSameDatagrams(local: String) async throws {
        let receiver = try UDPSocket.bind(try SocketAddress(parsing: local), on: testLoops.loops[1])
        defer { receiver.close() }
        let sender = try UDPSocket.connect(to: try receiver.localAddress(), on: testLoops.loops[0])
        defer { sender.close() }
        let batch = DatagramBatch(capacity: 16, slotSize: 2_048)
        for seed in 0..<10 { #expect(batch.append(testDatagram(seed, size: 1_200), to: nil)) }
        #expect(batch.append(testDatagram(10, size: 77), to: nil))
        let segment = try #require(batch.uniformSegment(from: 2, to: 11))
        #expect(try sender.sendSegmentedNow(batch, from: 2, to: 11, segment: segment).processedCount == 9)
        let received = try await receiveAll(receiver, into: DatagramBatch(capacity: 16, slotSize: 2_048), expected: 9)
        #expect(received.map(\.seed) == Array(2...10))
        #expect(received.allSatisfy { $0.bytes == testDatagram($0.seed, size: $0.seed == 10 ? 77 : 1_200) })
        #expect(received.allSatisfy { !$0.truncated })
    }

    @Test func aBoundSocketsSegmentedSendGoesToThePeerGiven() async throws {
        let receiver = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[1])
        defer { receiver.close() }
        let sender = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { sender.close() }
        let batch = DatagramBatch(capacity: 8, slotSize: 256)
        // The slots' own peers say somewhere else: the segmented send ignores them.
        let elsewhere = try SocketAddress(parsing: "127.0.0.1:9")
        for seed in 0..<6 { #expect(batch.append(testDatagram(seed, size: 64), to: elsewhere)) }
        #expect(try sender.sendSegmentedNow(batch, from: 0, to: 6, segment: 64,
                                            peer: try receiver.localAddress()).processedCount == 6)
        let received = try await receiveAll(receiver, into: DatagramBatch(capacity: 8, slotSize: 256), expected: 6)
        #expect(received.map(\.seed) == Array(0..<6))
        #expect(received.allSatisfy { $0.peer == (try? sender.localAddress()) })
    }

    @Test func aPathThatCannotSegmentThrowsSoTheCallerFallsBack() async throws {
        let receiver = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[1])
        defer { receiver.close() }
        let sender = try UDPSocket.connect(to: try receiver.localAddress(), on: testLoops.loops[0])
        defer { sender.close() }
        // Without UDP checksums (SO_NO_CHECK) the kernel refuses to segment, as it does for a route whose MTU
        // a segment does not fit.
        try sender.disableChecksumsForTesting()
        let batch = DatagramBatch(capacity: 4, slotSize: 256)
        for seed in 0..<3 { #expect(batch.append(testDatagram(seed, size: 50), to: nil)) }
        #expect(throws: IOError.syscall(call: "sendmsg(UDP_SEGMENT)", errno: EINVAL)) {
            try sender.sendSegmentedNow(batch, from: 0, to: 3, segment: 50)
        }
        #expect(try sender.sendNow(batch, from: 0).processedCount == 3)
        let received = try await receiveAll(receiver, into: DatagramBatch(capacity: 4, slotSize: 256), expected: 3)
        #expect(received.map(\.seed) == [0, 1, 2])
    }
}
