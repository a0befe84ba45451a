#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

/// Datagrams per second through an echo on loopback, batched (`recvmmsg`/`sendmmsg`) and one at a time.
///
/// A benchmark, not a check: it runs only with `RELAYD_BENCH=1` in the environment (Tools/bench/udp-batch
/// runs it on a release build) and prints its figures. A client task sends 32 datagrams of 64 bytes at a
/// time and waits for their echoes; the echo task, on the same loop, answers either a batch at a time or
/// a datagram at a time, so the figures compare the two echo paths under the same load.
@Suite(.serialized) struct DatagramBatchBenchmark {
    static let enabled = getenv("RELAYD_BENCH").map { String(cString: $0) == "1" } ?? false

    enum EchoMode: String, CaseIterable, Sendable {
        case batched, single
    }

    @Test(.enabled(if: enabled, "set RELAYD_BENCH=1 to run benchmarks"), arguments: EchoMode.allCases)
    func echoThroughput(mode: EchoMode) async throws {
        let datagrams = 320_000
        let loop = try EventLoop(index: 8, bufferSize: 4_096, cachedBuffers: 0)
        defer { loop.shutdown() }
        let client = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { client.close() }
        let echo = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: loop)
        defer { echo.close() }
        let echoAddress = try echo.localAddress()

        let elapsed = try await withTimeout(.seconds(120)) {
            try await withThrowingTaskGroup(of: Duration?.self) { group in
                group.addTask(executorPreference: loop) {
                    try await Self.runEcho(echo, mode: mode)
                    return nil
                }
                group.addTask(executorPreference: loop) {
                    defer { echo.abort() }
                    let clock = ContinuousClock()
                    return try await clock.measure {
                        try await Self.drive(client, to: echoAddress, datagrams: datagrams)
                    }
                }
                var elapsed: Duration?
                for try await result in group where result != nil { elapsed = result }
                return try #require(elapsed)
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(datagrams) / seconds
        print("udp echo \(mode.rawValue): \(datagrams) datagrams of 64 bytes in \(elapsed), "
              + "\(Int(rate.rounded())) datagrams/s")
    }

    private static func runEcho(_ echo: UDPSocket, mode: EchoMode) async throws {
        switch mode {
        case .batched:
            let batch = DatagramBatch(slotSize: 2_048)
            for try await received in echo.batches(batch) {
                try await echo.send(received)
            }
        case .single:
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2_048, alignment: 16)
            defer { buffer.deallocate() }
            while true {
                let received: (count: Int, from: SocketAddress, truncated: Bool)
                do {
                    received = try await echo.receive(into: buffer)
                } catch IOError.closed {
                    return
                }
                try await echo.send(UnsafeRawBufferPointer(rebasing: buffer[0..<received.count]), to: received.from)
            }
        }
    }

    private static func drive(_ client: UDPSocket, to echoAddress: SocketAddress, datagrams: Int) async throws {
        let outgoing = DatagramBatch(slotSize: 2_048)
        let incoming = DatagramBatch(slotSize: 2_048)
        let payload = [UInt8](repeating: 0x5a, count: 64)
        while outgoing.append(payload, to: echoAddress) {}
        var remaining = datagrams
        while remaining > 0 {
            try await client.send(outgoing)
            var back = 0
            while back < outgoing.count {
                back += try await client.receive(into: incoming)
            }
            remaining -= outgoing.count
        }
    }
}
