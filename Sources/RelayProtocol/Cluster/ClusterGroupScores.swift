/// The scores of one backend group's servers, as the cluster leader publishes them.
public struct ClusterGroupScores: Sendable, Equatable {
    /// The group's name in the config (`backends.NAME`).
    public var group: String
    /// Its servers, in the leader's registration order.
    public var servers: [ClusterServerScore]

    public init(group: String, servers: [ClusterServerScore]) {
        self.group = group
        self.servers = servers
    }
}
