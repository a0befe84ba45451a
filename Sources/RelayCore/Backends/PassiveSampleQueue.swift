import RelayIO

/// Hard failures of real traffic (refused or timed-out connects) waiting for the Scoreboard, each with its error.
///
/// Handing each sample to the Scoreboard as it happens cost two thread hops per relayed connection
/// (about 15% more CPU per connection in the connection-rate benchmark): the forwarding path only
/// appends here, under an uncontended lock, and `BackendGroupService` drains the queue a few times a
/// second. A queued failure wakes the drainer at once, since the failing server must leave the active set
/// before the next connection picks it. Soft samples (connect times, times to first byte, answers) do not come
/// here: they are summed on their server (`PassiveTally`). The queue is bounded; past `capacity` new samples are
/// dropped and counted.
final class PassiveSampleQueue: Sendable {
    /// Most samples held between two drains.
    let capacity: Int
    private let state = SanitizerVisibleMutex<State>(State())

    private struct State: Sendable {
        var samples: [(ServerHandle, PassiveSample)] = []
        var dropped = 0
        /// Wakes the current drainer when a hard failure arrives.
        var urgent: AsyncStream<Void>.Continuation?
    }

    init(capacity: Int = 4096) {
        self.capacity = capacity
    }

    /// A stream that yields (coalesced) when a hard failure is queued; each drainer run takes a fresh one,
    /// since a cancelled consumer finishes its stream for good.
    func subscribeToUrgentSamples() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let previous = state.withLock { state -> AsyncStream<Void>.Continuation? in
            defer { state.urgent = continuation }
            return state.urgent
        }
        previous?.finish()
        return stream
    }

    func append(_ server: ServerHandle, _ sample: PassiveSample) {
        let urgent = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard state.samples.count < capacity else {
                state.dropped += 1
                return nil
            }
            state.samples.append((server, sample))
            if case .connectFailed = sample { return state.urgent }
            return nil
        }
        urgent?.yield()
    }

    /// Takes every queued sample.
    func drain() -> [(ServerHandle, PassiveSample)] {
        state.withLock { state in
            defer { state.samples.removeAll(keepingCapacity: true) }
            return state.samples
        }
    }

    /// Samples dropped because the queue was full.
    var dropped: Int { state.withLock { $0.dropped } }
}
