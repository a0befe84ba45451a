/// One task sleeping on an event loop's timers (`EventLoop.sleep(for:)`): resumed exactly once, by its timer
/// or by cancellation, whichever comes first.
final class Sleeper: Sendable {
    private struct State: Sendable {
        var continuation: UnsafeContinuation<Void, any Error>?
        var timer: TimerID?
        var done = false
    }

    private let state = SanitizerVisibleMutex<State>(State())

    func park(_ continuation: UnsafeContinuation<Void, any Error>) {
        state.withLock { $0.continuation = continuation }
    }

    func setTimer(_ timer: TimerID) {
        state.withLock { $0.timer = timer }
    }

    var timer: TimerID? { state.withLock { $0.timer } }

    func resume(with result: Result<Void, any Error>) {
        let continuation = state.withLock { state -> UnsafeContinuation<Void, any Error>? in
            guard !state.done, let continuation = state.continuation else { return nil }
            state.done = true
            return continuation
        }
        continuation?.resume(with: result)
    }
}
