import RelayIO
import Testing

/// Runs `body` and returns its result, or throws `TestTimeout` once `limit` has passed, even if `body` ignores
/// cancellation: a hang fails the test instead of hanging the whole run.
///
/// On time-out, `body` is cancelled and given up to a second to end, so a body that honours cancellation is
/// over before the error reaches the test's teardown; one that ignores it is abandoned (the test has failed
/// anyway). Cancelling the calling task cancels `body`.
public func withTimeout<T: Sendable>(_ limit: Duration = .seconds(20), _ what: @autoclosure () -> String = "operation",
                                     sourceLocation: SourceLocation = #_sourceLocation,
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await body() }
    let outcome = await withTaskCancellationHandler {
        await FirstOutcome.of(work, within: limit)
    } onCancel: {
        work.cancel()
    }
    switch outcome {
    case .finished(let result):
        return try result.get()
    case .timedOut:
        work.cancel()
        _ = await FirstOutcome.of(work, within: .seconds(1))
        throw TestTimeout(what: what(), limit: limit, sourceLocation: sourceLocation)
    }
}

/// How a bounded wait for a task ended.
enum FirstOutcome<T: Sendable>: Sendable {
    case finished(Result<T, any Error>)
    case timedOut

    /// Waits for `task` for at most `limit`, without waiting for it to honour cancellation. The helper
    /// tasks end by the time this returns (the loser's sleep is cancelled, or it finds the race decided).
    static func of(_ task: Task<T, any Error>, within limit: Duration) async -> FirstOutcome {
        let race = Race<FirstOutcome>()
        let watcher = Task {
            let result: Result<T, any Error>
            do { result = .success(try await task.value) } catch { result = .failure(error) }
            race.offer(.finished(result))
        }
        let timer = Task {
            // A cancelled sleep means the task finished first.
            guard (try? await Task.sleep(for: limit)) != nil else { return }
            race.offer(.timedOut)
        }
        let outcome = await race.value
        timer.cancel()
        await timer.value
        if case .finished = outcome { await watcher.value }
        return outcome
    }
}

/// First offer wins: `value` returns it, whenever it comes.
final class Race<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiter: CheckedContinuation<Value, Never>?
    }

    private let state = SanitizerVisibleMutex(State())

    func offer(_ value: Value) {
        let waiter = state.withLock { state -> CheckedContinuation<Value, Never>? in
            guard state.value == nil else { return nil }
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    var value: Value {
        get async {
            await withCheckedContinuation { continuation in
                let ready = state.withLock { state -> Value? in
                    if let value = state.value { return value }
                    state.waiter = continuation
                    return nil
                }
                if let ready { continuation.resume(returning: ready) }
            }
        }
    }
}
