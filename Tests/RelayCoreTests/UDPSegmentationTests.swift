import RelayIO
import Testing
import TestSupport
@testable import RelayCore
@testable import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// `io.udp_segmentation`: a run of one flow's datagrams goes through the kernel once (`UDP_SEGMENT`), either
/// way, and the receiver gets exactly the datagrams that were sent, in order.
@Suite struct UDPSegmentationTests {
    /// Datagram `index` of burst `burst`, `size` bytes, recognisable by its first three bytes.
    static func datagram(_ burst: Int, _ index: Int, size: Int, reply: Bool = false) -> [UInt8] {
        var bytes = [UInt8](repeating: reply ? 0xAA : 0x55, count: size)
        bytes[0] = UInt8(truncatingIfNeeded: burst)
        bytes[1] = UInt8(truncatingIfNeeded: index)
        for position in 2..<size { bytes[position] = UInt8(truncatingIfNeeded: burst &* 31 &+ index &* 7 &+ position) }
        return bytes
    }

    /// Sends `datagrams` in one `sendmmsg` (or a few, if the buffer fills), to `peer` or the connected peer.
    static func sendBurst(_ datagrams: [[UInt8]], on socket: UDPSocket, to peer: SocketAddress?) async throws {
        let batch = DatagramBatch(capacity: datagrams.count, slotSize: 2_048)
        for bytes in datagrams { #expect(bytes.withUnsafeBytes { batch.append($0, to: peer) }) }
        try await socket.send(batch, deadline: EventLoop.now() + 5_000_000_000)
    }

    /// Receives until `count` datagrams are in (bounded by a deadline), with their senders.
    static func receive(_ count: Int, on socket: UDPSocket) async throws -> [(bytes: [UInt8], peer: SocketAddress?)] {
        let batch = DatagramBatch(capacity: 64, slotSize: 2_048)
        let deadline = EventLoop.now() + 10_000_000_000
        var received: [(bytes: [UInt8], peer: SocketAddress?)] = []
        while received.count < count {
            _ = try await socket.receive(into: batch, deadline: deadline)
            for index in 0..<batch.count {
                #expect(!batch[index].truncated)
                received.append((Array(batch[index].bytes), batch[index].peer))
            }
        }
        return received
    }

    /// Bursts both ways through one flow until each direction has sent at least one run segmented (the
    /// receive loop must find two or more datagrams queued: usual for a burst, so a few bursts suffice).
    /// Every datagram arrives whole and in order; nothing is dropped.
    @Test(arguments: [(1_200, 1_200), (300, 2)])
    func burstsGoAsSegmentedSendsBothWaysAndArriveAsSent(size: Int, lastSize: Int) async throws {
        let backend = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: clientLoops.next())
        defer { backend.close() }
        let log = LogCapture()
        try await withUDPService(servers: [try backend.localAddress()], log: log) { server, loop throws(IOError) in
            try UDPSocket.connect(to: server, on: loop)
        } _: { service, _ in
            let client = try UDPSocket.connect(to: service.address, on: clientLoops.next())
            defer { client.close() }
            var bursts = 0
            while bursts < 60 {
                let up = (0..<24).map { Self.datagram(bursts, $0, size: $0 == 23 ? lastSize : size) }
                try await Self.sendBurst(up, on: client, to: nil)
                let atBackend = try await Self.receive(up.count, on: backend)
                #expect(atBackend.map(\.bytes) == up, "burst \(bursts) to the server")
                let flow = try #require(atBackend.first?.peer)
                let down = (0..<24).map { Self.datagram(bursts, $0, size: $0 == 23 ? lastSize : size, reply: true) }
                try await Self.sendBurst(down, on: backend, to: flow)
                let atClient = try await Self.receive(down.count, on: client)
                #expect(atClient.map(\.bytes) == down, "burst \(bursts) to the client")
                #expect(atClient.allSatisfy { $0.peer == service.address }, "replies come from the listener's address")
                bursts += 1
                if service.counters.segmentedUp.load(ordering: .relaxed) > 0,
                   service.counters.segmentedDown.load(ordering: .relaxed) > 0 { break }
            }
            #expect(service.counters.segmentedUp.load(ordering: .relaxed) > 0, "no run to the server was segmented")
            #expect(service.counters.segmentedDown.load(ordering: .relaxed) > 0, "no run to the client was segmented")
            #expect(service.counters.datagramsUp.load(ordering: .relaxed) == bursts * 24)
            #expect(service.counters.datagramsDown.load(ordering: .relaxed) == bursts * 24)
            #expect(service.counters.segmentationRefused.load(ordering: .relaxed) == 0)
            #expect(service.dropCounts.allSatisfy { $0.1 == 0 }, "\(service.dropCounts)")
        }
    }

    /// A path that refuses segmented sends (here: the kernel refuses them on a socket without UDP checksums)
    /// costs one refused send per flow; its runs then go by `sendmmsg` and still arrive whole.
    @Test func aPathThatRefusesSegmentationFallsBackOncePerFlow() async throws {
        let backend = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: clientLoops.next())
        defer { backend.close() }
        let log = LogCapture()
        try await withUDPService(servers: [try backend.localAddress()], log: log) { server, loop throws(IOError) in
            let socket = try UDPSocket.connect(to: server, on: loop)
            try socket.disableChecksumsForTesting()
            return socket
        } _: { service, _ in
            let client = try UDPSocket.connect(to: service.address, on: clientLoops.next())
            defer { client.close() }
            var bursts = 0
            while bursts < 60, service.counters.segmentationRefused.load(ordering: .relaxed) == 0 || bursts < 5 {
                let up = (0..<24).map { Self.datagram(bursts, $0, size: 500) }
                try await Self.sendBurst(up, on: client, to: nil)
                #expect(try await Self.receive(up.count, on: backend).map(\.bytes) == up, "burst \(bursts)")
                bursts += 1
            }
            #expect(service.counters.segmentationRefused.load(ordering: .relaxed) == 1)
            #expect(service.counters.segmentedUp.load(ordering: .relaxed) == 0)
            #expect(service.counters.datagramsUp.load(ordering: .relaxed) == bursts * 24)
            #expect(service.dropCounts.allSatisfy { $0.1 == 0 }, "\(service.dropCounts)")
            #expect(log.lines.contains { $0.contains("the path refused a segmented send") && $0.contains("errno \(EINVAL)") })
        }
    }

    /// `udp_segmentation: false` sends every run by `sendmmsg`.
    @Test func turnedOffNothingIsSegmented() async throws {
        let backend = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: clientLoops.next())
        defer { backend.close() }
        let log = LogCapture()
        try await withUDPService(servers: [try backend.localAddress()], log: log, segmentation: false) {
            server, loop throws(IOError) in try UDPSocket.connect(to: server, on: loop)
        } _: { service, _ in
            let client = try UDPSocket.connect(to: service.address, on: clientLoops.next())
            defer { client.close() }
            for burst in 0..<10 {
                let up = (0..<24).map { Self.datagram(burst, $0, size: 400) }
                try await Self.sendBurst(up, on: client, to: nil)
                let atBackend = try await Self.receive(up.count, on: backend)
                #expect(atBackend.map(\.bytes) == up)
                let down = up.map { $0.reversed() as [UInt8] }
                try await Self.sendBurst(down, on: backend, to: try #require(atBackend.first?.peer))
                #expect(try await Self.receive(down.count, on: client).map(\.bytes) == down)
            }
            #expect(service.counters.segmentedUp.load(ordering: .relaxed) == 0)
            #expect(service.counters.segmentedDown.load(ordering: .relaxed) == 0)
            #expect(service.counters.datagramsUp.load(ordering: .relaxed) == 240)
        }
    }

    @Test func configKeyReadsAndDefaultsOn() throws {
        #expect(try RelayConfig.parse("{ listeners: [], backends: {} }").io.udpSegmentation)
        #expect(try !RelayConfig.parse("{ listeners: [], backends: {}, io: { udp_segmentation: false } }").io.udpSegmentation)
        #expect(throws: (any Error).self) {
            try RelayConfig.parse("{ listeners: [], backends: {}, io: { udp_segmentation: \"yes\" } }")
        }
    }
}
