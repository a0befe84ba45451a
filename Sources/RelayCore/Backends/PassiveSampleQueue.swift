import RelayIO

/// Observations of real traffic waiting for the Scoreboard, collected without waking anyone.
///
/// Handing each sample to the Scoreboard as it happens cost two thread hops per relayed connection
/// (about 15% more CPU per connection in the connection-rate benchmark): the forwarding path only
/// appends here, under an uncontended lock, and `BackendGroupService` drains the queue a few times a
/// second. Hard failures (a refused connect) are the exception: they wake the drainer at once, since
/// the failing server must leave the active set before the next connection picks it. The queue is
/// bounded; past `capacity` new samples are dropped and counted (EWMAs do not need every sample).
final class PassiveSampleQueue: Sendable {
    /// Most samples held between two drains.
    let capacity: Int
    private let state = SanitizerVisibleMutex<State>(State())
    /// Wakes the drainer when a hard failure arrives.
    private let urgent: AsyncStream<Void>.Continuation
    /// Yields once per urgent sample (coalesced by the buffering policy).
    let urgentSignals: AsyncStream<Void>

    private struct State: Sendable {
        var samples: [(ServerHandle, PassiveSample)] = []
        var dropped = 0
    }

    init(capacity: Int = 4096) {
        self.capacity = capacity
        (urgentSignals, urgent) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ server: ServerHandle, _ sample: PassiveSample) {
        let accepted = state.withLock { state -> Bool in
            guard state.samples.count < capacity else {
                state.dropped += 1
                return false
            }
            state.samples.append((server, sample))
            return true
        }
        if accepted, case .connectFailed = sample { urgent.yield() }
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
