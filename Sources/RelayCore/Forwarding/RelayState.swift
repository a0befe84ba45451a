import RelayIO
import Synchronization

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
