/// One peer of a static cluster: `n2@127.0.0.1:7947`.
public struct ClusterPeer: Sendable, Equatable {
    /// The peer's `cluster.node_id`.
    public var nodeID: String
    /// Its `cluster.static.listen` address, where heartbeats go.
    public var address: Endpoint

    public init(nodeID: String, address: Endpoint) {
        self.nodeID = nodeID
        self.address = address
    }

    /// `NODE_ID@host:port`.
    public var description: String { "\(nodeID)@\(address)" }
}
