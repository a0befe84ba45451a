/// What the cluster looks like now, published by `ClusterManager` after every change and read without awaiting
/// (`ClusterView.current`) by the probe scheduler, the admin API and the metrics.
public struct ClusterSnapshot: Sendable, Equatable {
    /// This node's id (empty when the cluster is off).
    public var nodeID: String
    /// `off`, `static` or `etcd`.
    public var mode: ClusterMode
    /// The node that leads now, as far as this node knows; nil when none is known.
    public var leader: String?
    /// Whether this node leads (and so probes and publishes).
    public var isLeader: Bool
    /// The leadership term: in static mode a counter raised by each new leader, in etcd mode the revision at
    /// which the leader key was created. Publications of an older term are ignored.
    public var term: UInt64
    /// This node first, then the others by id.
    public var members: [ClusterMember]
    /// Whether this node runs its own active probes: always when the cluster is off, when it leads, and when no
    /// leader has been known for longer than `dead_after`/`ttl` (fail open).
    public var probesLocally: Bool
    /// Leadership changes this node has seen since it started.
    public var leaderChanges: Int

    public init(nodeID: String, mode: ClusterMode, leader: String?, isLeader: Bool, term: UInt64,
                members: [ClusterMember], probesLocally: Bool, leaderChanges: Int) {
        self.nodeID = nodeID
        self.mode = mode
        self.leader = leader
        self.isLeader = isLeader
        self.term = term
        self.members = members
        self.probesLocally = probesLocally
        self.leaderChanges = leaderChanges
    }

    /// A node that is not in a cluster: it probes for itself.
    public static let standalone = ClusterSnapshot(nodeID: "", mode: .off, leader: nil, isLeader: false, term: 0,
                                                   members: [], probesLocally: true, leaderChanges: 0)
}
