import CAllocationCounter
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

/// Heap allocations on an event loop's thread while datagrams went out and came back through batches.
struct AllocationSample: Sendable {
    /// Round trips measured in the small run, and the allocations made meanwhile.
    let smallRun: (datagrams: Int, allocations: UInt64)
    /// The same for a run ten times as long.
    let largeRun: (datagrams: Int, allocations: UInt64)
    /// Datagrams that came back with other bytes than were sent (must be 0).
    let corrupted: Int
    /// Every count was read on the loop thread, where both tasks ran.
    let onLoopThread: Bool
}

@Suite struct DatagramAllocationTests {
    /// A client sends batches of 32 datagrams to an echo task that iterates `batches()` and sends each
    /// batch back from its own slots; the client collects the echoes. Both tasks run on one dedicated
    /// event loop, whose thread does nothing else, and the malloc calls made on that thread are counted
    /// (a per-thread counter: tests running in parallel on other threads do not disturb it). After a
    /// warm-up, 10,000 datagrams must cost no more allocations than 1,000: nothing per datagram or per
    /// batch. One per batch would already be 313 in the large run.
    @Test(.enabled(if: allocation_counter_available() != 0, "needs glibc and a build without sanitizers"))
    func batchedReceiveAndSendAllocateNothingPerDatagramInTheSteadyState() async throws {
        let loop = try EventLoop(index: 7, bufferSize: 4_096, cachedBuffers: 0)
        defer { loop.shutdown() }
        let client = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { client.close() }
        let echo = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { echo.close() }
        let echoAddress = try echo.localAddress()

        let sample = try await withTimeout(.seconds(60)) {
            try await withThrowingTaskGroup(of: AllocationSample?.self) { group in
                group.addTask(executorPreference: loop) {
                    let batch = DatagramBatch(slotSize: 2_048)
                    for try await received in echo.batches(batch) {
                        try await echo.send(received)
                    }
                    return nil
                }
                group.addTask(executorPreference: loop) {
                    defer { echo.abort() }
                    return try await Self.measure(client: client, echoAddress: echoAddress, loop: loop)
                }
                var sample: AllocationSample?
                for try await result in group where result != nil { sample = result }
                return try #require(sample)
            }
        }
        #expect(sample.onLoopThread)
        #expect(sample.corrupted == 0)
        let summary = "\(sample.smallRun.allocations) allocations for \(sample.smallRun.datagrams) datagrams, "
            + "\(sample.largeRun.allocations) for \(sample.largeRun.datagrams)"
        #expect(sample.largeRun.allocations <= sample.smallRun.allocations + 2, "\(summary)")
        #expect(sample.largeRun.allocations < 16)
    }

    /// Warms up, then counts the loop thread's allocations over 1,000 and over 10,000 round trips.
    private static func measure(client: UDPSocket, echoAddress: SocketAddress, loop: EventLoop) async throws
        -> AllocationSample
    {
        let outgoing = DatagramBatch(slotSize: 2_048)
        let incoming = DatagramBatch(slotSize: 2_048)
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 1)
        defer { source.deallocate() }
        for index in 0..<source.count { source[index] = UInt8(truncatingIfNeeded: index &* 7 &+ 3) }
        let pattern = UnsafeRawBufferPointer(source)

        var corrupted = try await roundTrips(2_000, client: client, to: echoAddress, pattern: pattern,
                                             outgoing: outgoing, incoming: incoming)
        var onLoopThread = loop.isCurrent
        let start = allocation_counter_thread_count()
        corrupted += try await roundTrips(1_000, client: client, to: echoAddress, pattern: pattern,
                                          outgoing: outgoing, incoming: incoming)
        onLoopThread = onLoopThread && loop.isCurrent
        let middle = allocation_counter_thread_count()
        corrupted += try await roundTrips(10_000, client: client, to: echoAddress, pattern: pattern,
                                          outgoing: outgoing, incoming: incoming)
        onLoopThread = onLoopThread && loop.isCurrent
        let end = allocation_counter_thread_count()
        return AllocationSample(smallRun: (1_000, middle - start), largeRun: (10_000, end - middle),
                                corrupted: corrupted, onLoopThread: onLoopThread)
    }

    /// Sends `datagrams` datagrams (1 to 1,400 bytes, prefixes of `pattern`) to the echo in batches and
    /// waits for each batch to come back. Returns how many came back with the wrong bytes or length.
    private static func roundTrips(_ datagrams: Int, client: UDPSocket, to echoAddress: SocketAddress,
                                   pattern: UnsafeRawBufferPointer, outgoing: DatagramBatch,
                                   incoming: DatagramBatch) async throws -> Int
    {
        var remaining = datagrams
        var corrupted = 0
        while remaining > 0 {
            outgoing.reset()
            var bytesOut = 0
            while !outgoing.isFull, remaining > 0 {
                let size = 1 + (remaining &* 389) % 1_400
                _ = outgoing.append(UnsafeRawBufferPointer(rebasing: pattern[0..<size]), to: echoAddress)
                bytesOut += size
                remaining -= 1
            }
            try await client.send(outgoing)
            var back = 0
            var bytesBack = 0
            while back < outgoing.count {
                let count = try await client.receive(into: incoming)
                // A datagram from anyone but the echo is a stray from a test alongside that sent to a port this
                // client reused: not part of the measurement.
                for index in 0..<count where incoming[index].peer == echoAddress {
                    let bytes = incoming[index].bytes
                    if memcmp(bytes.baseAddress!, pattern.baseAddress!, bytes.count) != 0 { corrupted += 1 }
                    bytesBack += bytes.count
                    back += 1
                }
            }
            if bytesBack != bytesOut { corrupted += 1 }
        }
        return corrupted
    }
}
