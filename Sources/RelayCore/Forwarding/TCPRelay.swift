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
    public static func run(client: TCPConnection, backend: TCPConnection, pool: BufferPool,
                           splice: Bool = false) async -> RelayOutcome {
        let ends = DirectionCount()
        async let upstream = pump(from: client, to: backend, pool: pool, splice: splice, ends: ends)
        let (bytesDown, down) = await pump(from: backend, to: client, pool: pool, splice: splice, ends: ends)
        let (bytesUp, up) = await upstream
        return RelayOutcome(bytesUp: bytesUp, bytesDown: bytesDown, up: up, down: down)
    }

    /// Copies `source` to `destination` until end of stream or failure, through pooled buffers or, with
    /// `splice`, through a kernel pipe.
    /// `ends`, shared by the two directions of one connection, saves the last direction to finish a
    /// `shutdown` call: both sockets are closed right after, and the close sends the FIN.
    public static func pump(from source: TCPConnection, to destination: TCPConnection,
                            pool: BufferPool, splice: Bool = false, ends: DirectionCount? = nil) async -> (Int, RelayEnding) {
        var total = 0
        do {
            if splice {
                let pipe = try SplicePipe()
                total = try await pipe.relay(from: source, to: destination)
            } else {
                for try await chunk in source.inbound(pool: pool) {
                    try await destination.write(chunk)
                    total += chunk.count
                }
            }
            if ends?.finishOne() != true { destination.shutdownWrite() }
            return (total, .endOfStream)
        } catch {
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

/// Counts the directions of one relayed connection that have reached end of stream.
public final class DirectionCount: Sendable {
    private let ended = Atomic<Int>(0)

    public init() {}

    /// Records one direction's end; true when it is the second (the connection is about to close).
    func finishOne() -> Bool {
        ended.add(1, ordering: .acquiringAndReleasing).newValue == 2
    }
}
