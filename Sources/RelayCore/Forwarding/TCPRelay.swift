import RelayIO

/// Moves bytes both ways between two connections until both directions have ended.
///
/// One task drives both directions (`TCPBridge`): it reads whatever either side has into a pooled buffer
/// and writes it on at once, and parks on one `ReadinessWatcher` when every read and write it could make
/// would block. Backpressure is natural (a direction reads no more until its last chunk is written), and a
/// buffer is held only while a chunk is in flight: an idle connection holds none, and costs one suspended
/// task. End of stream on one side becomes `shutdown(SHUT_WR)` on the other (half-close) while the
/// opposite direction keeps flowing; an error on either side aborts both, with a reset, so neither peer
/// waits on a dead connection.
///
/// With `splice`, each direction is its own loop through a kernel pipe (`pump`), run as two child tasks.
public enum TCPRelay {
    /// `onFirstResponse` gets the backend's time to first byte: from the first byte relayd wrote to the
    /// backend until the first byte it read back (once per connection; not when the backend spoke first).
    /// `bytesUp` and `bytesDown`, when given, count the bytes of each direction as they are written.
    /// `activity`, when given, counts the chunks of each direction for the listener's timeout sweep.
    @inline(never)
    public static func run(client: TCPConnection, backend: TCPConnection, pool: BufferPool,
                           splice: Bool = false, bytesUp upCounter: Counter? = nil, bytesDown downCounter: Counter? = nil,
                           activity: ConnectionActivity? = nil, clientRead: Bool = false,
                           onFirstResponse: (@Sendable (Duration) -> Void)? = nil) async -> RelayOutcome {
        if splice {
            return await runSpliced(client: client, backend: backend, pool: pool, bytesUp: upCounter,
                                    bytesDown: downCounter, activity: activity, clientRead: clientRead,
                                    onFirstResponse: onFirstResponse)
        }
        let bridge = TCPBridge(client: client, backend: backend, pool: pool, bytesUp: upCounter,
                               bytesDown: downCounter, activity: activity, clientRead: clientRead,
                               onFirstResponse: onFirstResponse)
        return await bridge.run()
    }

    /// Both directions through kernel pipes, one child task each.
    @inline(never)
    static func runSpliced(client: TCPConnection, backend: TCPConnection, pool: BufferPool,
                           bytesUp upCounter: Counter?, bytesDown downCounter: Counter?,
                           activity: ConnectionActivity?, clientRead: Bool,
                           onFirstResponse: (@Sendable (Duration) -> Void)?) async -> RelayOutcome {
        let state = RelayState(onFirstResponse: onFirstResponse, activity: activity)
        async let upstream = pump(from: client, to: backend, pool: pool, splice: true, state: state,
                                  direction: .upstream, freshlyRegistered: !clientRead, counter: upCounter)
        let (bytesDown, down) = await pump(from: backend, to: client, pool: pool, splice: true, state: state,
                                           direction: .downstream, freshlyRegistered: true, counter: downCounter)
        let (bytesUp, up) = await upstream
        return RelayOutcome(bytesUp: bytesUp, bytesDown: bytesDown, up: up, down: down)
    }

    /// Copies `source` to `destination` until end of stream or failure, through pooled buffers or, with
    /// `splice`, through a kernel pipe. `freshlyRegistered`: `source` has not been read or waited on since it
    /// was registered (see `TCPConnection.inbound(pool:freshlyRegistered:)`), which saves a `recv`.
    /// `state`, shared by the two directions of one connection, times the backend's first response and
    /// saves the last direction to finish a `shutdown` call (both sockets are closed right after, and
    /// the close sends the FIN).
    public static func pump(from source: TCPConnection, to destination: TCPConnection,
                            pool: BufferPool, splice: Bool = false, state: RelayState? = nil,
                            direction: RelayDirection = .upstream,
                            freshlyRegistered: Bool = false, counter: Counter? = nil) async -> (Int, RelayEnding) {
        var total = 0
        do {
            if splice {
                // The pipe reports its total at the end; a spliced connection's bytes are counted then.
                let pipe = try SplicePipe()
                let activity = state?.activity
                total = try await pipe.relay(from: source, to: destination) { _ in activity?.moved(direction) }
                counter?.increment(by: UInt64(total))
            } else {
                for try await chunk in source.inbound(pool: pool, freshlyRegistered: freshlyRegistered) {
                    if let state {
                        if total == 0 { state.firstChunk(direction) }
                        state.activity?.moved(direction)
                    }
                    try await destination.write(chunk)
                    total += chunk.count
                    counter?.increment(by: UInt64(chunk.count))
                }
            }
            if state?.finishOne() != true { destination.shutdownWrite() }
            return (total, .endOfStream)
        } catch {
            if state?.activity?.expiry != nil {
                // A timeout ended the connection: both sockets were woken on purpose and close with an
                // orderly end of stream, not a reset.
                return (total, .cancelled)
            }
            // Pass the failure on as a reset, and wake the other direction, which may be parked
            // reading a healthy but idle peer.
            source.setResetOnClose()
            destination.setResetOnClose()
            source.abort()
            destination.abort()
            if error is CancellationError { return (total, .cancelled) }
            if let error = error as? IOError, error == .closed { return (total, .cancelled) }
            return (total, .failed(String(describing: error)))
        }
    }
}
