#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

/// Datagram `seed` of `size` bytes: the first byte names it, the rest is a pattern that differs per seed.
func testDatagram(_ seed: Int, size: Int) -> [UInt8] {
    precondition(size >= 1)
    var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: seed), count: size)
    for index in 1..<size { bytes[index] = UInt8(truncatingIfNeeded: seed &* 131 &+ index &* 7) }
    return bytes
}

/// A CLOCK_MONOTONIC deadline `seconds` from now, for `receive` and `send`.
func deadline(inSeconds seconds: UInt64) -> UInt64 {
    EventLoop.now() + seconds * 1_000_000_000
}

/// A received datagram copied out of its batch.
struct ReceivedDatagram: Equatable {
    let bytes: [UInt8]
    let peer: SocketAddress?
    let truncated: Bool

    var seed: Int { Int(bytes[0]) }
}

/// Receives batches until `expected` datagrams have arrived, copying each out; fails at the deadline.
func receiveAll(_ socket: UDPSocket, into batch: DatagramBatch, expected: Int) async throws -> [ReceivedDatagram] {
    let limit = deadline(inSeconds: 5)
    var received: [ReceivedDatagram] = []
    while received.count < expected {
        let count = try await socket.receive(into: batch, deadline: limit)
        #expect(count == batch.count)
        for index in 0..<count {
            let datagram = batch[index]
            received.append(ReceivedDatagram(bytes: Array(datagram.bytes), peer: datagram.peer,
                                             truncated: datagram.truncated))
        }
    }
    return received
}

extension DatagramBatch {
    /// Copies `bytes` into the next free slot (the array form of `append(_:to:)`, for tests).
    func append(_ bytes: [UInt8], to peer: SocketAddress?) -> Bool {
        bytes.withUnsafeBytes { append($0, to: peer) }
    }

    /// The held datagrams' seeds, in slot order.
    var seeds: [Int] { (0..<count).map { Int(self[$0].bytes[0]) } }
}

@Suite struct DatagramBatchTests {
    @Test func appendFillsSlotsUntilFullAndResetEmptiesTheBatch() throws {
        let batch = DatagramBatch(capacity: 4, slotSize: 64)
        let peer = try SocketAddress(parsing: "127.0.0.1:9")
        #expect(batch.isEmpty)
        for seed in 0..<4 {
            #expect(batch.append(testDatagram(seed, size: 10 + seed), to: seed.isMultiple(of: 2) ? peer : nil))
        }
        #expect(batch.isFull)
        #expect(!batch.append(testDatagram(9, size: 1), to: peer))
        #expect(batch.count == 4)
        for seed in 0..<4 {
            #expect(Array(batch[seed].bytes) == testDatagram(seed, size: 10 + seed))
            #expect(batch[seed].peer == (seed.isMultiple(of: 2) ? peer : nil))
            #expect(!batch[seed].truncated)
        }
        batch.reset()
        #expect(batch.isEmpty)
        #expect(batch.append(testDatagram(7, size: 64), to: nil))
        #expect(Array(batch[0].bytes) == testDatagram(7, size: 64))
    }

    @Test func emptyDatagramsAreHeldToo() {
        let batch = DatagramBatch(capacity: 2, slotSize: 16)
        #expect(batch.append(UnsafeRawBufferPointer(start: nil, count: 0), to: nil))
        #expect(batch.count == 1)
        #expect(batch[0].bytes.isEmpty)
    }

    @Test func redirectChangesPeersWithoutTouchingBytes() throws {
        let batch = DatagramBatch(capacity: 3, slotSize: 32)
        let first = try SocketAddress(parsing: "127.0.0.1:1000")
        let second = try SocketAddress(parsing: "[::1]:2000")
        for seed in 0..<3 { #expect(batch.append(testDatagram(seed, size: 20), to: first)) }
        batch.redirect(1, to: second)
        #expect(batch[0].peer == first)
        #expect(batch[1].peer == second)
        batch.redirectAll(to: nil)
        #expect((0..<3).allSatisfy { batch[$0].peer == nil })
        #expect((0..<3).allSatisfy { Array(batch[$0].bytes) == testDatagram($0, size: 20) })
    }

    @Test func removeAllKeepsTheOthersInOrderAndFreesTheirSlots() throws {
        let batch = DatagramBatch(capacity: 6, slotSize: 32)
        let peer = try SocketAddress(parsing: "127.0.0.1:53")
        for seed in 0..<6 { #expect(batch.append(testDatagram(seed, size: 10 + seed), to: seed == 3 ? nil : peer)) }
        batch.removeAll { $0.bytes[0].isMultiple(of: 2) }
        #expect(batch.seeds == [1, 3, 5])
        #expect(batch[1].peer == nil)
        #expect(batch[2].peer == peer)
        for seed in 6..<9 { #expect(batch.append(testDatagram(seed, size: 30), to: peer)) }
        #expect(batch.isFull)
        #expect(batch.seeds == [1, 3, 5, 6, 7, 8])
        for index in 0..<6 {
            let seed = batch.seeds[index]
            #expect(Array(batch[index].bytes) == testDatagram(seed, size: seed < 6 ? 10 + seed : 30))
        }
        // Every slot still has a buffer of its own.
        #expect(Set((0..<6).map { batch[$0].bytes.baseAddress }).count == 6)
    }

    @Test func thirtyTwoDatagramsOfMixedSizesFromThreeClientsArriveIntactWithTheirPeers() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { server.close() }
        let serverAddress = try server.localAddress()
        let clients = try (0..<3).map { _ in try UDPSocket.connect(to: serverAddress, on: testLoops.loops[1]) }
        defer { for client in clients { client.close() } }
        let clientAddresses = try clients.map { try $0.localAddress() }
        let sizes = (0..<32).map { 1 + $0 * 61 }
        for seed in 0..<32 {
            try await clients[seed % 3].send(testDatagram(seed, size: sizes[seed]), deadline: deadline(inSeconds: 5))
        }
        let received = try await receiveAll(server, into: DatagramBatch(), expected: 32)
        #expect(received.count == 32)
        #expect(Set(received.map(\.seed)) == Set(0..<32))
        for datagram in received {
            #expect(datagram.bytes == testDatagram(datagram.seed, size: sizes[datagram.seed]))
            #expect(datagram.peer == clientAddresses[datagram.seed % 3])
            #expect(!datagram.truncated)
        }
        for client in 0..<3 {
            #expect(received.map(\.seed).filter { $0 % 3 == client } == Array(stride(from: client, to: 32, by: 3)))
        }
    }

    @Test(arguments: [("127.0.0.1", 65_507), ("::1", 65_527)])
    func largestDatagramArrivesWholeAndIsNotTruncated(ip: String, size: Int) async throws {
        let server = try UDPSocket.bind(try SocketAddress(ip: ip, port: 0), on: testLoops.loops[0])
        defer { server.close() }
        let client = try UDPSocket.bind(try SocketAddress(ip: ip, port: 0), on: testLoops.loops[1])
        defer { client.close() }
        let outgoing = DatagramBatch(capacity: 1)
        #expect(outgoing.append(testDatagram(5, size: size), to: try server.localAddress()))
        try await client.send(outgoing, deadline: deadline(inSeconds: 5))
        let received = try await receiveAll(server, into: DatagramBatch(), expected: 1)
        #expect(received.count == 1)
        #expect(received.first?.bytes.count == size)
        #expect(received.first?.bytes == testDatagram(5, size: size))
        #expect(received.first?.truncated == false)
        #expect(received.first?.peer == (try client.localAddress()))
    }

    @Test func datagramLongerThanTheSlotIsMarkedTruncated() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { server.close() }
        let client = try UDPSocket.connect(to: try server.localAddress(), on: testLoops.loops[1])
        defer { client.close() }
        try await client.send(testDatagram(1, size: 2_000), deadline: deadline(inSeconds: 5))
        try await client.send(testDatagram(2, size: 1_024), deadline: deadline(inSeconds: 5))
        let received = try await receiveAll(server, into: DatagramBatch(capacity: 4, slotSize: 1_024), expected: 2)
        #expect(received.count == 2)
        #expect(received[0].truncated)
        #expect(received[0].bytes == Array(testDatagram(1, size: 2_000).prefix(1_024)))
        #expect(!received[1].truncated)
        #expect(received[1].bytes == testDatagram(2, size: 1_024))
    }

    @Test func sendNowDeliversAMixedBatchToEachPeer() async throws {
        let sender = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { sender.close() }
        let receivers = try (0..<3).map { _ in
            try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[1])
        }
        defer { for receiver in receivers { receiver.close() } }
        let receiverAddresses = try receivers.map { try $0.localAddress() }
        let batch = DatagramBatch()
        for seed in 0..<12 {
            #expect(batch.append(testDatagram(seed, size: 100 + seed * 50), to: receiverAddresses[seed % 3]))
        }
        var sent = 0
        for _ in 0..<100 where sent < batch.count {
            switch try sender.sendNow(batch, from: sent) {
            case let .processed(taken): sent += taken
            case .wouldBlock: try await sender.registration.wait(for: .write, deadline: deadline(inSeconds: 5))
            }
        }
        #expect(sent == 12)
        #expect(batch.count == 12)
        #expect(try sender.sendNow(batch, from: 12).processedCount == 0)
        let senderAddress = try sender.localAddress()
        for (index, receiver) in receivers.enumerated() {
            let received = try await receiveAll(receiver, into: DatagramBatch(capacity: 8, slotSize: 2_048), expected: 4)
            #expect(received.map(\.seed) == [index, index + 3, index + 6, index + 9])
            #expect(received.allSatisfy { $0.bytes == testDatagram($0.seed, size: 100 + $0.seed * 50) })
            #expect(received.allSatisfy { $0.peer == senderAddress })
        }
    }

    @Test func slotsWithoutAPeerGoToTheConnectedPeer() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { server.close() }
        let other = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { other.close() }
        let client = try UDPSocket.connect(to: try server.localAddress(), on: testLoops.loops[1])
        defer { client.close() }
        let batch = DatagramBatch(capacity: 4, slotSize: 512)
        #expect(batch.append(testDatagram(0, size: 300), to: nil))
        #expect(batch.append(testDatagram(1, size: 200), to: try other.localAddress()))
        #expect(batch.append(testDatagram(2, size: 100), to: nil))
        try await client.send(batch, deadline: deadline(inSeconds: 5))
        let atServer = try await receiveAll(server, into: DatagramBatch(capacity: 4, slotSize: 512), expected: 2)
        #expect(atServer.map(\.seed) == [0, 2])
        #expect(atServer.map(\.bytes) == [testDatagram(0, size: 300), testDatagram(2, size: 100)])
        let atOther = try await receiveAll(other, into: DatagramBatch(capacity: 4, slotSize: 512), expected: 1)
        #expect(atOther.map(\.bytes) == [testDatagram(1, size: 200)])
    }

    @Test func ipv6BatchArrivesAndIsEchoedBackFromItsOwnSlots() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "[::1]:0"), on: testLoops.loops[0])
        defer { server.close() }
        let client = try UDPSocket.bind(try SocketAddress(parsing: "[::1]:0"), on: testLoops.loops[1])
        defer { client.close() }
        let clientAddress = try client.localAddress()
        let outgoing = DatagramBatch(capacity: 8, slotSize: 4_096)
        for seed in 0..<8 { #expect(outgoing.append(testDatagram(seed, size: 64 + seed * 400), to: try server.localAddress())) }
        try await client.send(outgoing, deadline: deadline(inSeconds: 5))

        let relay = DatagramBatch(capacity: 8, slotSize: 4_096)
        var relayed = 0
        for _ in 0..<8 where relayed < 8 {
            let count = try await server.receive(into: relay, deadline: deadline(inSeconds: 5))
            for index in 0..<count {
                #expect(relay[index].peer == clientAddress)
                #expect(relay[index].peer?.isIPv6 == true)
            }
            // Sent on as received: each datagram goes back to its sender, from the slot it arrived in.
            try await server.send(relay, deadline: deadline(inSeconds: 5))
            relayed += count
        }
        let echoed = try await receiveAll(client, into: DatagramBatch(capacity: 8, slotSize: 4_096), expected: 8)
        #expect(echoed.map(\.seed) == Array(0..<8))
        #expect(echoed.allSatisfy { $0.bytes == testDatagram($0.seed, size: 64 + $0.seed * 400) })
        #expect(echoed.allSatisfy { $0.peer == (try? server.localAddress()) })
    }

    @Test func connectedSocketWhosePeerClosedGetsConnectionRefusedFromReceive() async throws {
        let gone = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        let address = try gone.localAddress()
        gone.close()
        let client = try UDPSocket.connect(to: address, on: testLoops.loops[1])
        defer { client.close() }
        let batch = DatagramBatch(capacity: 4, slotSize: 2_048)
        #expect(batch.append(testDatagram(1, size: 32), to: nil))
        try await client.send(batch, deadline: deadline(inSeconds: 5))
        await #expect(throws: IOError.syscall(call: "recvmmsg", errno: ECONNREFUSED)) {
            _ = try await client.receive(into: batch, deadline: deadline(inSeconds: 5))
        }
        #expect(batch.isEmpty)
    }

    @Test func connectedSocketWhosePeerClosedGetsConnectionRefusedFromSend() async throws {
        let gone = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        let address = try gone.localAddress()
        gone.close()
        let client = try UDPSocket.connect(to: address, on: testLoops.loops[1])
        defer { client.close() }
        let batch = DatagramBatch(capacity: 4, slotSize: 2_048)
        #expect(batch.append(testDatagram(1, size: 32), to: nil))
        try await client.send(batch, deadline: deadline(inSeconds: 5))
        // The ICMP error reaches the socket as an error event (EPOLLERR), which wakes a reader.
        try await client.registration.wait(for: .read, deadline: deadline(inSeconds: 5))
        #expect(throws: IOError.syscall(call: "sendmmsg", errno: ECONNREFUSED)) { _ = try client.sendNow(batch) }
    }

    @Test func batchesSequenceRefillsOneBatchAndEndsWhenTheSocketIsAborted() async throws {
        let loop = testLoops.loops[0]
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { server.close() }
        let client = try UDPSocket.connect(to: try server.localAddress(), on: testLoops.loops[1])
        defer { client.close() }
        try await withTimeout {
            let echo = Task(executorPreference: loop) { () async throws -> (rounds: Int, sameBatch: Bool) in
                let batch = DatagramBatch(capacity: 8, slotSize: 2_048)
                var rounds = 0
                var sameBatch = true
                for try await received in server.batches(batch) {
                    sameBatch = sameBatch && received === batch
                    try await server.send(received, deadline: deadline(inSeconds: 5))
                    rounds += 1
                }
                return (rounds, sameBatch)
            }
            let replies = DatagramBatch(capacity: 8, slotSize: 2_048)
            for seed in 0..<20 {
                try await client.send(testDatagram(seed, size: 10 + seed), deadline: deadline(inSeconds: 5))
                let echoed = try await receiveAll(client, into: replies, expected: 1)
                #expect(echoed.map(\.bytes) == [testDatagram(seed, size: 10 + seed)])
            }
            server.abort()
            let (rounds, sameBatch) = try await echo.value
            #expect(rounds == 20)
            #expect(sameBatch)
        }
    }
}

extension IOResult where Value == Int {
    /// The count of a `.processed` result; nil for `.wouldBlock`.
    var processedCount: Int? {
        if case let .processed(count) = self { return count }
        return nil
    }
}
