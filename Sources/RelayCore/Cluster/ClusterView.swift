import RelayIO
import Synchronization

/// The cluster as the rest of relayd reads it, without awaiting: the latest `ClusterSnapshot` the
/// `ClusterManager` published, and counters the metrics read.
///
/// One per server for its whole life (a node id or mode change needs a restart), so probe schedulers of groups
/// created by a reload read the same view. A standalone server's view says "probe locally" forever.
public final class ClusterView: Sendable {
    private let snapshot: SanitizerVisibleMutex<ClusterSnapshot>
    /// Calls to etcd that failed (unreachable, refused, not understood).
    public let etcdErrors = Atomic<Int>(0)
    /// Publications this node attempted as leader (heartbeats with scores, etcd writes of a group's scores).
    public let publications = Atomic<Int>(0)
    /// Publications of a leader this node adopted.
    public let adoptions = Atomic<Int>(0)
    /// Datagrams on the heartbeat port that were dropped (not a heartbeat, bad tag, unknown node, replayed).
    public let heartbeatsDropped = Atomic<Int>(0)

    public init(_ initial: ClusterSnapshot = .standalone) {
        snapshot = SanitizerVisibleMutex(initial)
    }

    /// The latest snapshot.
    public var current: ClusterSnapshot { snapshot.withLock { $0 } }

    /// Whether this node runs its own active probes now.
    public var probesLocally: Bool { snapshot.withLock { $0.probesLocally } }

    /// Replaces the snapshot (the ClusterManager, after each change).
    func publish(_ next: ClusterSnapshot) {
        snapshot.withLock { $0 = next }
    }
}
