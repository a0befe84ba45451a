import RelayIO

/// A one-shot broadcast that says "stop gracefully": it fires once, wakes every waiter and runs every
/// registered callback exactly once.
///
/// The supervisor gives each service its own signal (in `ServiceContext.shutdown`), so a service can be
/// asked to stop on its own (when it is removed) or together with everything else (process shutdown).
/// `trigger()` takes a lock and never suspends, so it is safe to call from any thread, including a
/// dispatch source that handles `SIGTERM`.
public final class ShutdownSignal: Sendable {
    /// Handle for a callback added with `onTrigger(_:)`; `cancel()` removes the callback if it has not run.
    public struct Registration: Sendable {
        /// The signal the callback was added to; `nil` when the callback ran at once (nothing to remove).
        let signal: ShutdownSignal?
        /// Key of the callback inside `signal`, so `cancel()` removes exactly this one.
        let id: UInt64

        /// Removes the callback so it never runs. Does nothing if it already ran or was already removed.
        public func cancel() {
            signal?.removeCallback(id)
        }
    }

    private struct State {
        /// Set once by `trigger()`; never cleared, which is what makes the signal one-shot.
        var triggered = false
        /// Source of keys for waiters and callbacks; keys are never reused, so a stale key cannot
        /// remove someone else's entry.
        var nextID: UInt64 = 0
        /// Tasks suspended in `wait()`, keyed so a cancelled waiter can take itself out.
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        /// Callbacks to run on trigger, in registration order.
        var callbacks: [(id: UInt64, body: @Sendable () -> Void)] = []
    }

    private let state = SanitizerVisibleMutex(State())

    public init() {}

    /// Whether `trigger()` has been called.
    public var isTriggered: Bool {
        state.withLock { $0.triggered }
    }

    /// Fires the signal: resumes every waiter and runs every callback, on the calling thread, outside the
    /// lock. Only the first call does anything.
    public func trigger() {
        typealias Taken = (waiters: [CheckedContinuation<Void, Never>], callbacks: [@Sendable () -> Void])
        let (waiters, callbacks) = state.withLock { state -> Taken in
            if state.triggered { return ([], []) }
            state.triggered = true
            let waiters = Array(state.waiters.values)
            let callbacks = state.callbacks.map(\.body)
            state.waiters = [:]
            state.callbacks = []
            return (waiters, callbacks)
        }
        for waiter in waiters { waiter.resume() }
        for callback in callbacks { callback() }
    }

    /// Suspends until the signal fires; returns at once if it already has. Also returns (early) when the
    /// calling task is cancelled, so a task racing this against other work never leaks a waiter; check
    /// `isTriggered` afterwards if the difference matters.
    public func wait() async {
        let id: UInt64? = state.withLock { state in
            if state.triggered { return nil }
            state.nextID += 1
            return state.nextID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                // `Task.isCancelled` is read under the lock: if cancellation raced ahead of us, the handler
                // below found nothing to resume, so we must not park.
                let resumeNow = state.withLock { state -> Bool in
                    if state.triggered || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

    /// Runs `body` once when the signal fires, or at once (on this thread) if it already has.
    ///
    /// `body` runs on whichever thread calls `trigger()` (for services, the supervisor's), so it should
    /// be short and never block: close a listening socket, resume a continuation, ring something.
    ///
    /// - Returns: a registration whose `cancel()` removes `body` if it has not run yet.
    @discardableResult
    public func onTrigger(_ body: @escaping @Sendable () -> Void) -> Registration {
        let id: UInt64? = state.withLock { state in
            if state.triggered { return nil }
            state.nextID += 1
            state.callbacks.append((id: state.nextID, body: body))
            return state.nextID
        }
        guard let id else {
            body()
            return Registration(signal: nil, id: 0)
        }
        return Registration(signal: self, id: id)
    }

    private func removeCallback(_ id: UInt64) {
        state.withLock { state in
            state.callbacks.removeAll { $0.id == id }
        }
    }
}
