/// What a receiver has accepted from one peer: the peer's newest session and an RFC 6479 window over its
/// sequences there. It drops the redundant copies that arrive on a second link and replays of recorded frames,
/// and counts both.
///
/// **One window per peer, not per flow.** A client numbers all its frames (every flow, every link, heartbeats
/// too) in one sequence space, and so does the server per client. Per-flow windows would have to be forgotten
/// when a flow expires, and a forgotten window either accepts replays of that flow or, when its sender starts
/// the flow over, refuses its fresh frames; one window per configured client costs about a kilobyte and can be
/// kept for the life of the process, since the keys file bounds the clients.
///
/// **Sessions.** A frame from an older session than the newest accepted is stale: dropped. A frame from a newer
/// session is fresh, and inserting it starts that session with an empty window (the sender restarted, or ran out
/// of sequences). So recorded frames of a past run are never accepted again while the receiver runs.
///
/// **Order of use** (RFC 6479 §1): `screen` before spending a MAC on the frame, which also counts what it
/// refuses; `insert` only after the tag verified, so forged frames cannot move the window or start a session.
public struct MultipathReplayFilter: Sendable {
    /// What the filter says about a (session, sequence).
    public enum Verdict: Sendable, Equatable, Hashable {
        /// Not seen: deliver it (after its tag checks).
        case fresh
        /// Seen already in this session: a redundant copy or a replay.
        case duplicate
        /// So far behind the newest sequence that the window no longer tells; treated as a replay.
        case tooOld
        /// From a session older than the newest accepted.
        case staleSession
    }

    /// How many sequences behind the newest the window tells apart.
    public let windowSize: Int
    /// The newest session accepted; zero before any.
    public private(set) var session: UInt64 = 0
    /// The sequences accepted in `session`.
    private var window: ReplayWindow
    /// Frames screened out as duplicates (redundant copies included).
    public private(set) var duplicates = 0
    /// Frames screened out as too old.
    public private(set) var tooOld = 0
    /// Frames screened out as from an older session.
    public private(set) var staleSessions = 0
    /// Sessions started, the first included.
    public private(set) var sessionsStarted = 0

    /// An empty filter whose window covers `windowSize` sequences (rounded up to a multiple of 64).
    public init(windowSize: Int = MultipathWire.defaultReplayWindow) {
        window = ReplayWindow(size: windowSize)
        self.windowSize = window.size
    }

    /// What a frame numbered (`session`, `sequence`) would be, without changing anything.
    public func check(session: UInt64, sequence: UInt32) -> Verdict {
        if session < self.session { return .staleSession }
        if session > self.session { return .fresh }
        switch window.check(sequence) {
        case .fresh: return .fresh
        case .seen: return .duplicate
        case .tooOld, .invalid: return .tooOld
        }
    }

    /// `check`, counting the frames it refuses.
    public mutating func screen(session: UInt64, sequence: UInt32) -> Verdict {
        let verdict = check(session: session, sequence: sequence)
        switch verdict {
        case .fresh: break
        case .duplicate: duplicates += 1
        case .tooOld: tooOld += 1
        case .staleSession: staleSessions += 1
        }
        return verdict
    }

    /// Records an authenticated frame as accepted, starting its session if it is newer; returns what `check`
    /// said before. Only a fresh frame changes anything.
    @discardableResult
    public mutating func insert(session: UInt64, sequence: UInt32) -> Verdict {
        let verdict = check(session: session, sequence: sequence)
        guard verdict == .fresh else { return verdict }
        if session > self.session {
            self.session = session
            window = ReplayWindow(size: windowSize)
            sessionsStarted += 1
        }
        window.insert(sequence)
        return .fresh
    }
}
