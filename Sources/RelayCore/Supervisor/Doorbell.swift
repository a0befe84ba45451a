import RelayIO

/// A wake-up for a single waiting task: `ring()` from anywhere, `wait()` returns once per burst of rings.
///
/// The supervisor's run loop only wakes up for task-group results, so a helper task waits on this and
/// returns a result whenever `add`, `remove` or `shutdown` leave work for the loop. Rings that arrive
/// while nobody waits are remembered (once), so none is lost between two waits.
final class Doorbell: Sendable {
    private enum State {
        /// Nobody is waiting and no ring is pending.
        case idle
        /// Rung while nobody waited; the next `wait()` returns at once.
        case rung
        /// A task is parked in `wait()`.
        case waiting(CheckedContinuation<Void, Never>)
    }

    private let state = SanitizerVisibleMutex(State.idle)

    init() {}

    /// Wakes the waiter, or leaves a pending ring for the next `wait()`.
    func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            switch state {
            case .idle, .rung:
                state = .rung
                return nil
            case .waiting(let waiter):
                state = .idle
                return waiter
            }
        }
        waiter?.resume()
    }

    /// Returns after the next ring (at once if one is pending), or when the calling task is cancelled.
    /// Only one task may wait at a time.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    switch state {
                    case .rung:
                        state = .idle
                        return true
                    case .idle:
                        // Read under the lock: a cancellation that raced ahead found nothing to resume.
                        if Task.isCancelled { return true }
                        state = .waiting(continuation)
                        return false
                    case .waiting:
                        preconditionFailure("Doorbell.wait() called by two tasks at once")
                    }
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard case .waiting(let waiter) = state else { return nil }
                state = .idle
                return waiter
            }
            waiter?.resume()
        }
    }
}
