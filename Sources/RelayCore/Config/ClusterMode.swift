/// How a node finds the other nodes of its cluster and agrees on a leader (`cluster.mode`).
public enum ClusterMode: String, Sendable, Equatable, CaseIterable {
    /// No cluster: this node probes every backend itself (the default).
    case off
    /// A fixed list of peers and authenticated UDP heartbeats; leader = the smallest live node id. For two or
    /// three nodes without a coordination service. Two partitioned halves each elect a leader: probes double,
    /// nothing else breaks.
    case `static`
    /// etcd: membership under leases, one leader at a time by a transaction on the leader key.
    case etcd
}
