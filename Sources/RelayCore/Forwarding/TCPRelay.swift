import RelayIO
import Synchronization

/// How one direction of a relayed connection ended.
public enum RelayEnding: Sendable, Equatable {
    /// The source sent FIN; it was passed on as a half-close.
    case endOfStream
    /// Reading the source or writing the destination failed; both sockets were aborted.
    case failed(String)
    /// The relay was cancelled (drain timeout, shutdown).
    case cancelled
}

/// Byte counts and endings of both directions of a relayed connection.
public struct RelayOutcome: Sendable {
    /// Bytes read from the client and written to the backend.
    public var bytesUp: Int
    /// Bytes read from the backend and written to the client.
    public var bytesDown: Int
    public var up: RelayEnding
    public var down: RelayEnding
}

/// Moves bytes both ways between two connections until both directions have ended.
///
/// Each direction is a plain `for try await` over the source's inbound chunks, writing each to the
/// destination: backpressure is natural (we do not read more until the write completed), and a
/// buffer is held only while a chunk is in flight. End of stream on one side becomes `shutdown(SHUT_WR)`
/// on the other (half-close) while the opposite direction keeps flowing; an error on either side aborts
/// both, with a reset, so neither peer waits on a dead connection.
public enum TCPRelay {
    /// `onFirstResponse` gets the backend's time to first byte: from the first byte relayd wrote to the
    /// backend until the first byte it read back (once per connection; not when the backend spoke first).
    /// `bytesUp` and `bytesDown`, when given, count the bytes of each direction as they are written.
    /// `activity`, when given, counts the chunks of each direction for the listener's timeout sweep.
    public static func run(client: TCPConnection, backend: TCPConnection, pool: BufferPool,
                           splice: Bool = false, bytesUp upCounter: Counter? = nil, bytesDown downCounter: Counter? = nil,
                           activity: ConnectionActivity? = nil,
                           onFirstResponse: (@Sendable (Duration) -> Void)? = nil) async -> RelayOutcome {
        let state = RelayState(onFirstResponse: onFirstResponse, activity: activity)
        async let upstream = pump(from: client, to: backend, pool: pool, splice: splice, state: state,
                                  direction: .upstream, freshlyRegistered: true, counter: upCounter)
        let (bytesDown, down) = await pump(from: backend, to: client, pool: pool, splice: splice, state: state,
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

/// Which way a pump copies.
public enum RelayDirection: Sendable {
    /// Client to backend.
    case upstream
    /// Backend to client.
    case downstream
}

/// What the two directions of one relayed connection share.
public final class RelayState: Sendable {
    /// Directions that reached end of stream.
    private let ended = Atomic<Int>(0)
    /// When the first chunk went upstream (monotonic ns, 0 = not yet).
    private let firstUpstream = Atomic<UInt64>(0)
    private let onFirstResponse: (@Sendable (Duration) -> Void)?
    /// The connection's chunk counts and timeouts, when the listener watches them.
    let activity: ConnectionActivity?

    public init(onFirstResponse: (@Sendable (Duration) -> Void)? = nil, activity: ConnectionActivity? = nil) {
        self.onFirstResponse = onFirstResponse
        self.activity = activity
    }

    /// Records one direction's end; true when it is the second (the connection is about to close).
    func finishOne() -> Bool {
        ended.add(1, ordering: .acquiringAndReleasing).newValue == 2
    }

    /// Called with each direction's first chunk, before it is written on.
    func firstChunk(_ direction: RelayDirection) {
        guard let onFirstResponse else { return }
        switch direction {
        case .upstream:
            firstUpstream.store(EventLoop.now(), ordering: .releasing)
        case .downstream:
            let sent = firstUpstream.load(ordering: .acquiring)
            if sent != 0 { onFirstResponse(.nanoseconds(Int64(EventLoop.now() - sent))) }
        }
    }
}
