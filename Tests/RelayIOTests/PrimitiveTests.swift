#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
@testable import RelayIO

@Suite struct SocketAddressTests {
    @Test(arguments: ["127.0.0.1:80", "[::1]:8080", "0.0.0.0:0", "[2001:db8::2]:65535"])
    func parsesAndPrintsBack(text: String) throws {
        #expect(try SocketAddress(parsing: text).description == text)
    }

    @Test(arguments: ["127.0.0.1", "::1:80", "[::1]", "[::1]80", "localhost:80", "1.2.3.4:70000", "1.2.3:80", ""])
    func rejectsMalformed(text: String) {
        #expect(throws: IOError.self) { try SocketAddress(parsing: text) }
    }

    @Test func ipKeyIgnoresPort() throws {
        let a = try SocketAddress(parsing: "10.1.2.3:1000")
        let b = try SocketAddress(parsing: "10.1.2.3:2000")
        let c = try SocketAddress(parsing: "10.1.2.4:1000")
        #expect(a.ipKey == b.ipKey)
        #expect(a.ipKey != c.ipKey)
        #expect(a != b)
        #expect(a.withPort(2000) == b)
    }
}

@Suite struct TimerHeapTests {
    @Test func popsDueTimersInDeadlineOrderAndSkipsCancelled() {
        var heap = TimerHeap()
        let fired = Fired()
        for deadline in [50, 10, 40, 20, 30] as [UInt64] {
            _ = heap.insert(deadline: deadline) { fired.append(deadline) }
        }
        let cancelled = heap.insert(deadline: 25) { fired.append(25) }
        heap.cancel(cancelled)
        #expect(heap.earliestDeadline == 10)
        var due: [TimerAction] = []
        heap.popDue(now: 35, into: &due)
        for action in due { action.fire() }
        #expect(fired.values == [10, 20, 30])
        #expect(heap.earliestDeadline == 40)
        #expect(heap.count == 2)
    }

    /// Random inserts, cancels (of live, fired and already cancelled timers) and pops against a plain list: the
    /// same timers fire in deadline order, a cancel leaves nothing behind, and a stale id never cancels the timer
    /// that reuses its slot.
    @Test(.computeBound, arguments: [1, 2, 3] as [UInt64])
    func cancelsAtOnceAndFiresInOrder_likeAList(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var heap = TimerHeap()
        let fired = Fired()
        var live: [(id: TimerID, deadline: UInt64, tag: UInt64)] = []
        var dead: [TimerID] = []
        var now: UInt64 = 0
        for step in 0..<6_000 as Range<UInt64> {
            switch random.next() % 4 {
            case 0, 1:
                let deadline = now + random.next() % 500
                live.append((heap.insert(deadline: deadline) { fired.append(step) }, deadline, step))
            case 2 where !live.isEmpty:
                let index = Int(random.next() % UInt64(live.count))
                heap.cancel(live[index].id)
                dead.append(live.remove(at: index).id)
            case 2 where !dead.isEmpty:
                heap.cancel(dead[Int(random.next() % UInt64(dead.count))])
            default:
                now += random.next() % 100
                var due: [TimerAction] = []
                heap.popDue(now: now, into: &due)
                let expected = live.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
                let before = fired.values.count
                for action in due { action.fire() }
                let got = Array(fired.values[before...])
                #expect(Set(got) == Set(expected.map(\.tag)))
                #expect(got.map { tag in live.first { $0.tag == tag }!.deadline } == expected.map(\.deadline))
                dead += expected.map(\.id)
                live.removeAll { $0.deadline <= now }
            }
            #expect(heap.count == live.count)
            #expect(heap.earliestDeadline == live.map(\.deadline).min())
        }
    }
}

@Suite struct DeadlineHeapTests {
    /// Random pushes and pops against a sorted array: the heap must hand out the same deadlines in the same order.
    @Test(.computeBound, arguments: [1, 2, 3, 4, 5] as [UInt64])
    func popsInDeadlineOrder_likeASortedList(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        var heap = DeadlineHeap()
        var model: [UInt64] = []
        for step in 0..<5_000 {
            if random.next() % 3 != 0 || model.isEmpty {
                let deadline = random.next() % 1_000
                heap.push(deadline, id: UInt64(step))
                model.append(deadline)
            } else {
                model.sort()
                #expect(heap.popFirst()?.deadline == model.removeFirst())
            }
            #expect(heap.count == model.count)
            #expect(heap.first?.deadline == model.min())
        }
        let due = heap.popDue(now: 500)
        #expect(due.map(\.deadline) == model.filter { $0 <= 500 }.sorted())
        #expect(heap.count == model.filter { $0 > 500 }.count)
        #expect(heap.first.map { $0.deadline > 500 } ?? true)
        heap.removeAll()
        #expect(heap.popFirst() == nil)
    }

    @Test func popDue_returnsNothingBeforeTheEarliestDeadline() {
        var heap = DeadlineHeap()
        heap.push(10, id: 1)
        heap.push(10, id: 2)
        #expect(heap.popDue(now: 9).isEmpty)
        #expect(Set(heap.popDue(now: 10).map(\.id)) == [1, 2])
    }
}

final class Fired: @unchecked Sendable {
    var values: [UInt64] = []
    func append(_ value: UInt64) { values.append(value) }
}

@Suite struct BufferPoolTests {
    @Test func reusesUpToTheCacheLimit() {
        let pool = BufferPool(bufferSize: 4096, maxCached: 2)
        let buffers = (0..<3).map { _ in pool.take() }
        #expect(pool.inUse == 3)
        let first = buffers[0].baseAddress
        for buffer in buffers { pool.release(buffer) }
        #expect(pool.inUse == 0)
        #expect(pool.cached == 2)
        let again = pool.take()
        #expect(again.count == 4096)
        #expect(again.baseAddress == buffers[1].baseAddress || again.baseAddress == first)
        pool.release(again)
    }
}

@Suite struct EventLoopTests {
    @Test func sleepWaitsAtLeastTheDuration() async throws {
        let loop = testLoops.loops[0]
        let start = ContinuousClock.now
        // The sleep is the behaviour under test.
        try await loop.sleep(for: .milliseconds(30))
        #expect(ContinuousClock.now - start >= .milliseconds(29))
    }

    @Test func sleepEndsEarlyOnCancellation() async throws {
        let loop = testLoops.loops[1]
        let started = CountBox()
        let task = Task {
            started.increment()
            try await loop.sleep(for: .seconds(30))
        }
        defer { task.cancel() }
        // Cancelled on its way into the sleep or parked in it, the sleep must end at once.
        try await eventually("the sleeping task started") { started.count == 1 }
        task.cancel()
        let start = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func tasksPreferringALoopRunOnItsThread() async throws {
        let loop = testLoops.loops[0]
        let onLoop = await Task(executorPreference: loop) { loop.isCurrent }.value
        #expect(onLoop)
        #expect(!loop.isCurrent)
    }
}

@Suite struct ConnectTimeoutTests {
    /// A listener that never accepts and has a backlog of 0 drops new SYNs once its queue is full, so a
    /// connect to it stays pending: that is a black hole on loopback.
    @Test func connectTimesOutAgainstAFullBacklog() async throws {
        let loop = testLoops.loops[1]
        let hole = try TCPListener(bindingTo: try SocketAddress(parsing: "127.0.0.1:0"), on: loop, backlog: 0,
                                   reusePort: false)
        defer { hole.close() }
        var held: [TCPConnection] = []
        defer { for connection in held { connection.close() } }
        var timedOut = false
        for _ in 0..<8 {
            let start = ContinuousClock.now
            do {
                held.append(try await TCPConnection.connect(to: hole.localAddress, on: loop, timeout: .milliseconds(150)))
            } catch IOError.timedOut {
                #expect(ContinuousClock.now - start >= .milliseconds(140))
                timedOut = true
                break
            }
        }
        #expect(timedOut)
    }
}

@Suite struct IOErrorOriginTests {
    @Test(arguments: [(EMFILE, LocalResource.fileDescriptors), (ENFILE, .systemFileDescriptors), (ENOBUFS, .memory),
                      (ENOMEM, .memory), (EADDRNOTAVAIL, .ephemeralPorts)] as [(Int32, LocalResource)])
    func relaydsOwnShortagesAreLocal(code: Int32, resource: LocalResource) {
        #expect(IOError.syscall(call: "socket", errno: code).origin == .local(resource))
    }

    @Test(arguments: [ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH, ECONNRESET, EPIPE])
    func thePeersFailuresAreRemote(code: Int32) {
        #expect(IOError.syscall(call: "connect", errno: code).origin == .remote)
    }

    @Test func timeoutsAndClosedSocketsAreRemote() {
        #expect(IOError.timedOut.origin == .remote)
        #expect(IOError.closed.origin == .remote)
    }
}
