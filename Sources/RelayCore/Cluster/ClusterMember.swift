/// One node of the cluster as this node sees it, for `GET /cluster`, the metrics and the dashboard.
public struct ClusterMember: Sendable, Equatable {
    /// The node's id.
    public var nodeID: String
    /// Where it is reached: its heartbeat address (static) or the address it registered (etcd); nil if unknown.
    public var address: String?
    /// Heard from within `dead_after` (static) or registered under a live lease (etcd). This node itself is alive.
    public var alive: Bool
    /// Milliseconds since it was last heard from (0 for this node); nil if never.
    public var lastSeenMs: Int?

    public init(nodeID: String, address: String?, alive: Bool, lastSeenMs: Int?) {
        self.nodeID = nodeID
        self.address = address
        self.alive = alive
        self.lastSeenMs = lastSeenMs
    }
}
