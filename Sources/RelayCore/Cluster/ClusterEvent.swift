/// Something `ClusterState` decided that the actor around it logs or acts on.
public enum ClusterEvent: Sendable, Equatable {
    /// This node now leads, in `term`.
    case becameLeader(term: UInt64)
    /// This node no longer leads; `reason` says why (for the log).
    case steppedDown(reason: String)
    /// The leader this node knows changed (either may be nil: none known).
    case leaderChanged(from: String?, to: String?)
    /// A member came alive or was heard from for the first time.
    case memberAlive(String)
    /// A member has not been heard from for `dead_after`/`ttl`.
    case memberDead(String)
    /// No leader has been known for longer than `dead_after`/`ttl`: this node probes for itself.
    case failingOpen
    /// A leader is known again: this node stops its own probes and adopts the leader's scores.
    case following(String)
}
