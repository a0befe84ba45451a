/// Numbers one sender's frames: a session that grows from one run of the sender to the next, and a sequence
/// that counts from 1 within the session.
///
/// The receiver's `MultipathReplayFilter` accepts a session only when it is at least the newest it has seen, so
/// a session must be larger than any the same sender used before. Start it from the wall clock in nanoseconds
/// since 1970 when the sender creates its state (the client at start, the server when it sets up a client), as
/// WireGuard does with its handshake timestamps: that orders runs across restarts with no state on disk. When a
/// session's 2^32 − 1 sequences run out (about five days at 10,000 frames a second) the next frame opens session
/// + 1, which is still below any later run's clock.
///
/// Nothing here depends on a number never repeating for the frames' security: tags are HMACs, not one-time
/// MACs (see `MultipathKeys`). A repeat only makes the receiver drop a fresh frame as a replay.
public struct MultipathSequencer: Sendable, Equatable {
    /// The current session; never zero.
    public private(set) var session: UInt64
    /// The last sequence handed out in this session; zero before the first.
    public private(set) var lastSequence: UInt32 = 0

    /// A sequencer whose first session is `session` (the wall clock in nanoseconds; zero becomes 1).
    public init(session: UInt64) {
        self.session = max(session, 1)
    }

    /// A sequencer that has handed out `lastSequence` in `session` already (to test the rollover).
    init(session: UInt64, lastSequence: UInt32) {
        self.init(session: session)
        self.lastSequence = lastSequence
    }

    /// The session and sequence for the next frame.
    public mutating func next() -> (session: UInt64, sequence: UInt32) {
        if lastSequence == .max {
            // 2^64 nanoseconds is 584 years: a session of .max cannot come from a clock, only from a test.
            session = session == .max ? session : session + 1
            lastSequence = 0
        }
        lastSequence += 1
        return (session, lastSequence)
    }
}
