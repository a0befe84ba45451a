import RelayIO

/// The timeouts a relayed TCP connection lives under, and the pure decision taken each time the listener
/// looks at one connection.
///
/// Nothing runs per chunk but a relaxed counter bump on the connection (`ConnectionActivity`): no clock
/// read, no timer. The listener keeps each connection in a `TimeoutSchedule` at the time it next needs a
/// look; at that time `check` compares the counts with those it saw last (`Watch`). A connection whose
/// counts changed is looked at again a quarter of `idle` later; one whose counts stood still for `idle`
/// is closed. So an idle connection is closed between `idle` and `idle × 1.25` after its last byte, and a
/// busy one costs four looks per `idle`, whatever its traffic. A connection that carries nothing costs
/// nothing until its next look: 10,000 idle connections under a 10-minute timeout are looked at about 67
/// times a second in all.
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

    /// How often the listener's sweep wakes to take the connections that are due: a quarter of the shortest
    /// timeout, between 50 ms and 1 s (1 s when neither is set: the sweep also writes out suppressed log
    /// counts). Waking costs a look at the schedule's earliest entry, not a pass over the connections.
    public var sweepPeriod: Duration {
        guard let shortest = [idle, firstByte].filter({ $0 > .zero }).min() else { return .seconds(1) }
        return max(.milliseconds(50), min(.seconds(1), shortest / 4))
    }

    /// What was seen of one connection at its last look that found its counts changed.
    public struct Watch: Sendable, Equatable {
        /// Chunks moved either way.
        var chunks: UInt64
        /// When that look was (monotonic ns): the connection was last active no later than this.
        var since: UInt64

        public init(chunks: UInt64 = 0, since: UInt64) {
            self.chunks = chunks
            self.since = since
        }
    }

    /// What to do with a connection after a look.
    public enum Decision: Sendable, Equatable {
        /// A timeout passed: close it, ending as this.
        case expire(ConnectionEnd)
        /// Look again at this time (monotonic ns).
        case checkAgain(at: UInt64)
        /// No timeout applies any more (idle is off and the client has spoken): stop looking.
        case done
    }

    /// When to look at a connection accepted at `accepted` for the first time; nil when no timeout is set.
    public func firstCheck(accepted: UInt64) -> UInt64? {
        var first: UInt64?
        if firstByte > .zero { first = accepted &+ firstByte.nanosecondsClamped }
        if idle > .zero { first = min(first ?? .max, accepted &+ quarter(idle)) }
        return first
    }

    /// One look at a connection accepted at `accepted` that has moved `up` chunks from the client and `down`
    /// to it; `watch` (what the previous look saw) is updated. `clientSentBytes` is asked only when the
    /// first-byte timeout would pass: bytes that wait unread (the relay is still connecting to a server)
    /// do not count against the client.
    public func check(now: UInt64, accepted: UInt64, up: UInt64, down: UInt64, watch: inout Watch,
                      clientSentBytes: () -> Bool = { false }) -> Decision {
        var next: UInt64?
        if firstByte > .zero, up == 0 {
            let deadline = accepted &+ firstByte.nanosecondsClamped
            if now < deadline {
                next = deadline
            } else if !clientSentBytes() {
                return .expire(.clientTimeout)
            } else {
                // Its bytes wait for the relay: look again soon, by when they will have been read.
                next = now &+ quarter(firstByte)
            }
        }
        let chunks = up &+ down
        if chunks != watch.chunks {
            watch = Watch(chunks: chunks, since: now)
        } else if idle > .zero, now &- watch.since >= idle.nanosecondsClamped {
            return .expire(.idle)
        }
        if idle > .zero {
            let idleCheck = min(watch.since &+ idle.nanosecondsClamped, now &+ quarter(idle))
            next = min(next ?? .max, idleCheck)
        }
        return next.map { .checkAgain(at: $0) } ?? .done
    }

    /// A quarter of `duration` in nanoseconds, at least 1 ms so a tiny timeout cannot make a busy loop.
    private func quarter(_ duration: Duration) -> UInt64 {
        max(1_000_000, duration.nanosecondsClamped / 4)
    }
}
