import RelayIO

/// The timeouts a relayed TCP connection lives under, and the pure check the listener's sweep runs on it.
///
/// Checked by a sweep rather than a timer per connection: a pump only counts chunks, and every sweep pass
/// compares the counts with those of its previous pass (`Watch`). A connection is closed for idleness once
/// its counts have not changed for `idle`, measured from the first pass that saw them so (so the close comes
/// between `idle` and `idle` plus one sweep period after the last byte).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// No byte either way for this long closes the connection (`idle_timeout`; 0 = never).
    public var idle: Duration
    /// No byte from the client this long after accept closes the connection (`first_byte_timeout`; 0 = never).
    public var firstByte: Duration

    public init(idle: Duration, firstByte: Duration) {
        self.idle = idle
        self.firstByte = firstByte
    }

    /// Neither timeout is set.
    public static let off = ConnectionTimeouts(idle: .zero, firstByte: .zero)

    /// Whether any timeout is set.
    public var isEnabled: Bool { idle > .zero || firstByte > .zero }

    /// How often a sweep should look: a quarter of the shortest timeout, between 50 ms and 1 s (1 s when
    /// neither is set: the sweep also writes out suppressed log counts).
    public var sweepPeriod: Duration {
        guard let shortest = [idle, firstByte].filter({ $0 > .zero }).min() else { return .seconds(1) }
        return max(.milliseconds(50), min(.seconds(1), shortest / 4))
    }

    /// What the sweep remembers of one connection between passes.
    public struct Watch: Sendable, Equatable {
        /// Chunks moved either way at the last pass that saw them change.
        var chunks: UInt64
        /// When that pass ran (monotonic ns).
        var since: UInt64

        public init(chunks: UInt64 = 0, since: UInt64) {
            self.chunks = chunks
            self.since = since
        }
    }

    /// One sweep pass over one connection accepted at `accepted` that has moved `up` chunks from the client and
    /// `down` to it: the timeout that passed, if one did; `watch` is updated for the next pass.
    /// `clientSentBytes` is asked only when the first-byte timeout would pass: whether the client's bytes are
    /// waiting unread (the relay is still connecting to a server), which does not count against the client.
    public func check(now: UInt64, accepted: UInt64, up: UInt64, down: UInt64, watch: inout Watch,
                      clientSentBytes: () -> Bool = { false }) -> ConnectionEnd? {
        if firstByte > .zero, up == 0, now &- accepted >= firstByte.nanosecondsClamped, !clientSentBytes() {
            return .clientTimeout
        }
        let chunks = up &+ down
        if chunks != watch.chunks {
            watch = Watch(chunks: chunks, since: now)
            return nil
        }
        if idle > .zero, now &- watch.since >= idle.nanosecondsClamped { return .idle }
        return nil
    }
}
