import RelayProtocol
import Synchronization

/// Counters of a multipath listener (either end), bumped on the hot path with relaxed atomics.
public final class MultipathCounters: Sendable {
    /// Application datagrams taken from local flows (client) or backends (server) and sent as DATA frames.
    public let datagramsSent = Atomic<Int>(0)
    /// DATA frames delivered to a local flow (client) or a backend (server), one per sequence.
    public let datagramsDelivered = Atomic<Int>(0)
    /// Extra copies of DATA frames sent on a second or further link (redundancy's cost).
    public let duplicatesSent = Atomic<Int>(0)
    /// Bytes of those extra copies.
    public let duplicateBytesSent = Atomic<Int>(0)
    /// Frames dropped as copies of a frame already delivered (redundancy, or a replay inside the window).
    public let duplicatesDropped = Atomic<Int>(0)
    /// Frames dropped as replays: too old for the window, or from an older session.
    public let replaysDropped = Atomic<Int>(0)
    /// Frames whose tag did not verify.
    public let badTagsDropped = Atomic<Int>(0)
    /// Datagrams that were not well-formed frames.
    public let malformedDropped = Atomic<Int>(0)
    /// Frames naming a client with no key here, or travelling the wrong way.
    public let unknownClientDropped = Atomic<Int>(0)
    /// Application datagrams dropped: too large for a frame, no link to send on, `max_flows` reached, or the
    /// backend/local socket refused them.
    public let datagramsDropped = Atomic<Int>(0)
    /// Flows opened (client: local applications; server: backend sockets).
    public let flowsOpened = Atomic<Int>(0)
    /// Heartbeats answered (server).
    public let heartbeatsAnswered = Atomic<Int>(0)
    /// Times the server's return path for a client moved.
    public let returnPathSwitches = Atomic<Int>(0)

    public init() {}

    /// Counts a frame a channel refused.
    func count(_ drop: MultipathDrop) {
        switch drop {
        case .malformed: malformedDropped.add(1, ordering: .relaxed)
        case .unknownClient, .wrongDirection: unknownClientDropped.add(1, ordering: .relaxed)
        case .badTag: badTagsDropped.add(1, ordering: .relaxed)
        case .duplicate: duplicatesDropped.add(1, ordering: .relaxed)
        case .tooOld, .staleSession: replaysDropped.add(1, ordering: .relaxed)
        }
    }

    /// Drops by reason, for metrics and the admin API.
    public var dropCounts: [(String, Int)] {
        [("duplicate", duplicatesDropped.load(ordering: .relaxed)),
         ("replay", replaysDropped.load(ordering: .relaxed)),
         ("bad_tag", badTagsDropped.load(ordering: .relaxed)),
         ("malformed", malformedDropped.load(ordering: .relaxed)),
         ("unknown_client", unknownClientDropped.load(ordering: .relaxed))]
    }
}
