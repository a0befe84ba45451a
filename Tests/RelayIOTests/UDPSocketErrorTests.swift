#if canImport(Glibc)
import Glibc
#endif
import CRelayIO
import Testing
import TestSupport
@testable import RelayIO

/// A connected UDP socket whose peer answers with ICMP port unreachable: the error is one event, not a state.
@Suite struct UDPSocketErrorTests {
    @Test func errorEdge_wakesOneWait_whileAHangUpStaysLatched() {
        // Not in any epoll set, so that only the events this test delivers reach it.
        let registration = IORegistration(fd: -1, generation: 0, loop: testLoops.loops[0])
        registration.deliver(events: CRELAY_EPOLLERR)
        #expect(registration.consumeReadiness(.read))
        #expect(registration.consumeReadiness(.write))
        // Consumed: the next wait suspends until another event.
        #expect(!registration.consumeReadiness(.read))
        #expect(!registration.consumeReadiness(.write))
        registration.deliver(events: CRELAY_EPOLLHUP)
        for _ in 0..<3 {
            #expect(registration.consumeReadiness(.read))
            #expect(registration.consumeReadiness(.write))
        }
    }

    // The case that spun a loop thread at 100 % for good: the ICMP error raised EPOLLERR, a send reported and cleared
    // it, and the reader then found EAGAIN and a wait that returned at once, again and again, so even the timer of
    // its own deadline could never run on that loop.
    @Test func errorTakenBySend_leavesTheReaderWaitingForItsDeadline() async throws {
        let nobody = try freeUDPAddress()
        let loop = testLoops.loops[1]
        let socket = try UDPSocket.connect(to: nobody, on: loop)
        defer { socket.close() }
        let datagram: [UInt8] = [1, 2, 3]
        // The first send goes out; the port unreachable comes back (on loopback at once) and is reported by a
        // later send, which clears it.
        var refused = false
        for _ in 0..<200 where !refused {
            do {
                _ = try datagram.withUnsafeBytes { try socket.sendNow($0) }
                try await Task.sleep(for: .milliseconds(5))
            } catch let error as IOError where error.errno == ECONNREFUSED {
                refused = true
            }
        }
        try #require(refused, "no ICMP port unreachable came back from \(nobody)")
        let start = ContinuousClock.now
        let outcome = try await withTimeout(.seconds(10), "the receive to reach its deadline") {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            do {
                _ = try await socket.receive(into: buffer, deadline: EventLoop.now() + 100_000_000)
                return "received a datagram"
            } catch {
                return "\(error)"
            }
        }
        #expect(outcome == "\(IOError.timedOut)")
        #expect(ContinuousClock.now - start >= .milliseconds(99))
    }
}
