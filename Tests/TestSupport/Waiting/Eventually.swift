import Testing

/// Waits until `condition` holds, checking it every `poll` for at most `limit`; throws `TestTimeout` naming
/// `what` if it never does.
///
/// The condition is checked first at once and last after the limit has passed, so a test process starved of
/// CPU for the whole limit still gets a final look; in between, at most `limit / poll` checks. Use it for
/// something that happens on its own (a probe marks a server up, a counter reaches a value) instead of a
/// sleep that guesses how long that takes. Errors the condition throws end the wait at once.
///
/// - Parameters:
///   - what: what is awaited, for the failure message; evaluated only on time-out, so it can show the state
///     that was seen (`"pool size 15, is \(pool.size)"`).
///   - limit: generous: on a loaded two-core machine, a thing that takes milliseconds alone can take seconds.
public func eventually(_ what: @autoclosure () -> String, within limit: Duration = .seconds(20),
                       poll: Duration = .milliseconds(10), sourceLocation: SourceLocation = #_sourceLocation,
                       _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while true {
        if try await condition() { return }
        if ContinuousClock.now >= deadline { break }
        try await Task.sleep(for: min(poll, max(.zero, deadline - ContinuousClock.now)))
    }
    throw TestTimeout(what: what(), limit: limit, sourceLocation: sourceLocation)
}
