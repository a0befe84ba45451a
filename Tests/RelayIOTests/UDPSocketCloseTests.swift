#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import RelayIO

@Suite struct UDPSocketCloseTests {
    @Test func everyOperationOnAClosedSocketThrowsClosedWithoutASystemCall() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { server.close() }
        let client = try UDPSocket.connect(to: try server.localAddress(), on: testLoops.loops[1])
        client.close()
        #expect(client.isClosed)
        let batch = DatagramBatch(capacity: 2, slotSize: 64)
        #expect(batch.append(testDatagram(1, size: 8), to: nil))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
        defer { buffer.deallocate() }
        // A system call would fail with EBADF (or, worse, reach whatever socket reused the number).
        #expect(throws: IOError.closed) { _ = try client.sendNow(batch) }
        #expect(throws: IOError.closed) { _ = try client.sendNow(UnsafeRawBufferPointer(buffer)) }
        #expect(throws: IOError.closed) {
            _ = try client.sendNow(UnsafeRawBufferPointer(buffer), to: try server.localAddress())
        }
        #expect(throws: IOError.closed) { _ = try client.receiveNow(into: batch) }
        #expect(throws: IOError.closed) { _ = try client.receiveNow(into: buffer) }
        #expect(throws: IOError.closed) { _ = try client.localAddress() }
        await #expect(throws: IOError.closed) { try await client.send([1, 2, 3]) }
        await #expect(throws: IOError.closed) { _ = try await client.receive(into: buffer) }
        #expect(client.sendsTried.load(ordering: .relaxed) == 4)
    }

    @Test func sendAfterCloseNeverReachesTheSocketThatReusedTheDescriptor() async throws {
        let first = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { first.close() }
        let second = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { second.close() }
        let stale = try UDPSocket.connect(to: try first.localAddress(), on: testLoops.loops[1])
        let number = stale.fd
        stale.close()
        // The kernel hands out the lowest free number, so the next socket normally gets `stale`'s.
        let reuser = try UDPSocket.connect(to: try second.localAddress(), on: testLoops.loops[1])
        defer { reuser.close() }
        await #expect(throws: IOError.closed) { try await stale.send([0xBA, 0xD]) }
        try await reuser.send(Array("marker".utf8), deadline: deadline(inSeconds: 5))
        let received = try await receiveAll(second, into: DatagramBatch(capacity: 4, slotSize: 64), expected: 1)
        if reuser.fd == number {
            // Datagrams from one socket arrive in order: a stale send would be the first one here.
            #expect(received.map(\.bytes) == [Array("marker".utf8)])
        }
    }

    @Test func closeRacingSendsFromAnotherThreadEndsThemWithClosedOnly() async throws {
        let server = try UDPSocket.bind(try SocketAddress(parsing: "127.0.0.1:0"), on: testLoops.loops[0])
        defer { server.close() }
        let address = try server.localAddress()
        for _ in 0..<50 {
            let client = try UDPSocket.connect(to: address, on: testLoops.loops[1])
            let started = Atomic<Bool>(false)
            let sender = RacingThread {
                let byte = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
                defer { byte.deallocate() }
                while true {
                    started.store(true, ordering: .releasing)
                    do throws(IOError) {
                        _ = try client.sendNow(UnsafeRawBufferPointer(byte))
                    } catch {
                        return error
                    }
                }
            }
            while !started.load(ordering: .acquiring) { sched_yield() }
            client.close()
            #expect(sender.join() == .closed)
        }
    }
}

/// A pthread running `body` to completion, for code that must run on a thread of its own rather than
/// as a task (a tight loop racing another thread).
private final class RacingThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> IOError
    private var result: IOError?

    init(_ body: @escaping () -> IOError) {
        self.body = body
        let box = Unmanaged.passRetained(self)
        let created = pthread_create(&handle, nil, { raw in
            let thread = Unmanaged<RacingThread>.fromOpaque(raw!).takeRetainedValue()
            thread.result = thread.body()
            return nil
        }, box.toOpaque())
        precondition(created == 0, "pthread_create failed: \(created)")
    }

    /// Waits for the thread and returns what `body` returned.
    func join() -> IOError? {
        pthread_join(handle, nil)
        return result
    }
}
