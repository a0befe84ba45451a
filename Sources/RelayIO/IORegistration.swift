import CRelayIO
import Synchronization

/// The readiness slots of one file descriptor in an `EventLoop`: one parked continuation per direction,
/// and a latched "ready" flag for edges that arrive while nobody waits.
///
/// Callers try the non-blocking syscall first and call `wait(for:)` only after `EAGAIN`; an edge that
/// arrived between the `EAGAIN` and the wait is latched, so `wait` returns at once and the call is
/// retried. Aborting wakes every waiter with `IOError.closed` without closing the fd, so a socket can
/// be stopped from any thread while only its owner ever closes it (no fd-reuse races).
public final class IORegistration: Sendable {
    /// The registered descriptor.
    public let fd: Int32
    /// Distinguishes this registration from a later one that reuses the same fd number.
    let generation: UInt32
    /// The loop whose epoll set holds the fd and whose timers serve deadlines.
    public let loop: EventLoop
    private let state = SanitizerVisibleMutex<State>(State())
    /// A hint, written under the lock, of which latched readiness `state` may hold (bit 1: read, bit 2:
    /// write), so that `consumeReadiness` answers "not ready", its most common answer, without locking.
    /// A stale hint costs nothing: a clear bit read just before an edge is latched makes the caller park,
    /// and the park finds the edge (under the lock, or through the watcher it wakes); a set bit read after
    /// the readiness was consumed leads to the locked check.
    private let latched = Atomic<UInt8>(0)

    private struct State {
        /// Latched readiness. Starts false: callers always try the kernel before waiting, and if the fd
        /// is already ready when registered, epoll reports it at once (EPOLL_CTL_ADD polls the fd).
        var readable = false
        var writable = false
        /// The peer closed its side or the connection is gone (RDHUP, HUP). Sticky: with edge triggering
        /// the FIN's edge may have been the same one that delivered the last data, so after a short read
        /// a reader must still find out that end of stream (or the error) is pending.
        var readClosed = false
        var writeClosed = false
        var reader: Waiter?
        var writer: Waiter?
        /// Woken on every edge and on abort, when a task watches this registration instead of parking
        /// in `reader`/`writer` (see `watch(_:)`).
        var watcher: ReadinessWatcher?
        var aborted = false
        var nextToken: UInt64 = 1
    }

    private static func latchedBits(_ state: State) -> UInt8 {
        (state.readable || state.readClosed ? 1 : 0) | (state.writable || state.writeClosed ? 2 : 0)
    }

    /// Takes a latched edge for `interest` (a hang-up stays: it is sticky) and refreshes the hint; true
    /// when the fd may be ready. Call under the lock.
    private func consume(_ interest: IOInterest, in state: inout State) -> Bool {
        let ready: Bool
        switch interest {
        case .read:
            ready = state.readClosed || state.readable
            state.readable = false
        case .write:
            ready = state.writeClosed || state.writable
            state.writable = false
        }
        latched.store(Self.latchedBits(state), ordering: .releasing)
        return ready
    }

    private struct Waiter {
        let continuation: UnsafeContinuation<Void, any Error>
        let token: UInt64
        let timer: TimerID?
    }

    init(fd: Int32, generation: UInt32, loop: EventLoop) {
        self.fd = fd
        self.generation = generation
        self.loop = loop
    }

    /// Called by the loop thread for each epoll event naming this registration.
    ///
    /// A hang-up is sticky (every later wait returns at once: the next read finds end of stream or the error). An
    /// error alone is one edge like any other: on a connected UDP socket it is an ICMP unreachable, which the next
    /// send or receive reports and clears, after which the socket works on and `EAGAIN` means wait again. Were it
    /// sticky, a reader whose error a send took first would find `EAGAIN` and a wait that returns at once, forever:
    /// a spin that holds the loop thread and so starves even the timer that would end it.
    func deliver(events: UInt32) {
        let errored = events & CRELAY_EPOLLERR != 0
        let hungUp = events & CRELAY_EPOLLHUP != 0
        let readable = errored || hungUp || events & (CRELAY_EPOLLIN | CRELAY_EPOLLRDHUP | CRELAY_EPOLLPRI) != 0
        let writable = errored || hungUp || events & CRELAY_EPOLLOUT != 0
        let readHungUp = hungUp || events & CRELAY_EPOLLRDHUP != 0
        let (reader, writer, watcher) = state.withLock { state -> (Waiter?, Waiter?, ReadinessWatcher?) in
            var reader: Waiter?
            var writer: Waiter?
            if readHungUp { state.readClosed = true }
            if hungUp { state.writeClosed = true }
            if readable {
                if let waiting = state.reader { reader = waiting; state.reader = nil } else { state.readable = true }
            }
            if writable {
                if let waiting = state.writer { writer = waiting; state.writer = nil } else { state.writable = true }
            }
            latched.store(Self.latchedBits(state), ordering: .releasing)
            return (reader, writer, readable || writable ? state.watcher : nil)
        }
        if let reader { finish(reader, with: .success(())) }
        if let writer { finish(writer, with: .success(())) }
        watcher?.wake(aborted: false)
    }

    /// Makes `watcher` (or nobody, with nil) hear of every readiness edge and of an abort, for a task that
    /// polls this registration with `consumeReadiness` and parks on the watcher. If the registration was
    /// already aborted, the watcher hears of it at once.
    public func watch(_ watcher: ReadinessWatcher?) {
        let aborted = state.withLock { state -> Bool in
            state.watcher = watcher
            return state.aborted
        }
        if aborted { watcher?.wake(aborted: true) }
    }

    /// Consumes a latched readiness edge, if there is one, without suspending.
    @inline(__always)
    public func consumeReadiness(_ interest: IOInterest) -> Bool {
        guard latched.load(ordering: .acquiring) & (interest == .read ? 1 : 2) != 0 else { return false }
        return state.withLock { state in consume(interest, in: &state) }
    }

    /// Suspends until the fd is ready for `interest` (or a latched edge says it may be), the deadline
    /// passes (`IOError.timedOut`), the registration is aborted (`IOError.closed`) or the task is
    /// cancelled (`CancellationError`). `deadline` is CLOCK_MONOTONIC nanoseconds.
    nonisolated(nonsending) public func wait(for interest: IOInterest, deadline: UInt64? = nil) async throws {
        if consumeReadiness(interest) { return }
        try await waitSlow(for: interest, deadline: deadline)
    }

    nonisolated(nonsending) private func waitSlow(for interest: IOInterest, deadline: UInt64?) async throws {
        let token = state.withLock { state -> UInt64 in
            defer { state.nextToken &+= 1 }
            return state.nextToken
        }
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                let immediate = state.withLock { state -> Result<Void, any Error>? in
                    if state.aborted { return .failure(IOError.closed) }
                    if consume(interest, in: &state) { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    var timer: TimerID?
                    if let deadline {
                        // A strong reference: the timer is cancelled as soon as the wait ends (`finish`), so
                        // it never keeps the registration alive for long. A weak one would give the
                        // registration a side table, and every later retain and release of it (each of the
                        // connection's reads and writes) would take the runtime's slow path.
                        timer = loop.schedule(at: deadline, action: .expireWait(self, interest, token: token))
                    }
                    let waiter = Waiter(continuation: continuation, token: token, timer: timer)
                    switch interest {
                    case .read:
                        precondition(state.reader == nil, "two tasks wait to read fd \(fd)")
                        state.reader = waiter
                    case .write:
                        precondition(state.writer == nil, "two tasks wait to write fd \(fd)")
                        state.writer = waiter
                    }
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            resumeWaiter(interest, token: token, with: .failure(CancellationError()))
        }
    }

    /// A wait's deadline passed: the waiter with `token`, if it still waits, gets `IOError.timedOut`.
    func expire(_ interest: IOInterest, token: UInt64) {
        resumeWaiter(interest, token: token, with: .failure(IOError.timedOut))
    }

    private func resumeWaiter(_ interest: IOInterest, token: UInt64, with result: Result<Void, any Error>) {
        let waiter = state.withLock { state -> Waiter? in
            switch interest {
            case .read:
                guard let waiting = state.reader, waiting.token == token else { return nil }
                state.reader = nil
                return waiting
            case .write:
                guard let waiting = state.writer, waiting.token == token else { return nil }
                state.writer = nil
                return waiting
            }
        }
        if let waiter { finish(waiter, with: result) }
    }

    private func finish(_ waiter: Waiter, with result: Result<Void, any Error>) {
        if let timer = waiter.timer { loop.cancel(timer) }
        waiter.continuation.resume(with: result)
    }

    /// Wakes every waiter with `IOError.closed` and makes later waits fail at once. Safe from any thread;
    /// the fd stays open until its owner closes it.
    public func abort() {
        let (reader, writer, watcher) = state.withLock { state -> (Waiter?, Waiter?, ReadinessWatcher?) in
            state.aborted = true
            defer { state.reader = nil; state.writer = nil }
            return (state.reader, state.writer, state.watcher)
        }
        if let reader { finish(reader, with: .failure(IOError.closed)) }
        if let writer { finish(writer, with: .failure(IOError.closed)) }
        watcher?.wake(aborted: true)
    }

    /// True once `abort()` has been called.
    public var isAborted: Bool { state.withLock { $0.aborted } }

    /// Removes the fd from the loop's table. Call right before closing the fd.
    func deregister() {
        abort()
        loop.forget(self)
    }
}
