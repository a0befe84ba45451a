import RelayProtocol

/// What the LinkMonitor publishes: where DATA frames go, and how each link measures.
///
/// The send path reads `sendTargets` (and `activeLink` and `replyFanout`, which go into every frame's header)
/// from the latest published snapshot without awaiting the actor; `generation` grows whenever any of those three
/// change, so a reader can tell a new routing decision from a refreshed measurement.
public struct LinkMonitorSnapshot: Sendable, Equatable {
    /// Grows by one whenever the active link, the send targets or the reply fanout change.
    public var generation: UInt64
    /// The link traffic goes on; nil only for a monitor with no links.
    public var activeLink: Int?
    /// The links each DATA frame is sent on, the active link first; more than one while redundancy is on.
    public var sendTargets: [Int]
    /// What the client asks the server to do with replies: the mirror of `sendTargets`.
    public var replyFanout: MultipathReplyFanout
    /// Every link, in configuration order.
    public var links: [LinkStatus]

    /// Whether frames are being duplicated.
    public var isRedundant: Bool { sendTargets.count > 1 }
}
