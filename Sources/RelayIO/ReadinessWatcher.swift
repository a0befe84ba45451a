/// Parks one task until any of the registrations it watches reports readiness, or is aborted.
///
/// A relayed connection's task moves both directions itself: it tries every non-blocking read and write
/// it may make, and when all of them would block it parks here, on one continuation for both sockets,
/// instead of keeping one parked task per direction. The registrations it watches latch their readiness
/// as always (`IORegistration.consumeReadiness`) and wake it on every edge; the task then retries what
/// became ready. A wake that comes while the task is busy is kept, so the next `wait` returns at once
/// and no edge is lost between the task's last try and its park.
public final class ReadinessWatcher: Sendable {
    private struct State {
        var pending = false
        var aborted = false
        var waiter: UnsafeContinuation<Bool, Never>?
    }

    private let state = SanitizerVisibleMutex<State>(State())

    public init() {}

    /// True once a watched registration was aborted.
    public var isAborted: Bool { state.withLock { $0.aborted } }

    /// Called by a watched registration on a readiness edge (`aborted: false`) or when it is aborted.
    func wake(aborted: Bool) {
        let (waiter, wasAborted) = state.withLock { state -> (UnsafeContinuation<Bool, Never>?, Bool) in
            if aborted { state.aborted = true }
            guard let waiter = state.waiter else {
                state.pending = true
                return (nil, state.aborted)
            }
            state.waiter = nil
            return (waiter, state.aborted)
        }
        waiter?.resume(returning: wasAborted)
    }

    /// Returns after the next wake, or at once when one came since the last `wait`. True when a watched
    /// registration has been aborted (the task should stop).
    ///
    /// Not cancellable by itself: the task's cancellation handler aborts the registrations, which wakes it.
    nonisolated(nonsending) public func wait() async -> Bool {
        let ready = state.withLock { state -> Bool? in
            guard state.pending || state.aborted else { return nil }
            state.pending = false
            return state.aborted
        }
        if let ready { return ready }
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<Bool, Never>) in
            let now = state.withLock { state -> Bool? in
                if state.pending || state.aborted {
                    state.pending = false
                    return state.aborted
                }
                precondition(state.waiter == nil, "two tasks wait on one readiness watcher")
                state.waiter = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }
}
