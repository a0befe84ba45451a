/// When the multipath client sends a DATA frame on more than one link (`redundancy`).
public enum MultipathRedundancy: String, Sendable, Equatable, Hashable, CaseIterable {
    /// Never: each frame goes on the active link only.
    case off
    /// On the two best links while the active link's measured loss is above `redundancy_loss_threshold` or its last
    /// heartbeat went unanswered, and during the first `heartbeat_timeout` after a failover or the start; on the
    /// active link alone otherwise. The default.
    case adaptive
    /// On every live link, always.
    case always
}
