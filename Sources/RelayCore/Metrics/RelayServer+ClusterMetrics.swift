import RelayIO

/// The cluster's metrics, read from the published snapshot and the view's counters (nothing awaited). Exported
/// only when `cluster.mode` is static or etcd.
extension RelayServer {
    func collectClusterMetrics() -> [MetricFamilySnapshot] {
        let snapshot = cluster.current
        guard snapshot.mode != .off else { return [] }
        var out = MetricFamilies()
        out.gauge("relayd_cluster_is_leader", "1 while this node leads the cluster (probes and publishes scores).",
                  [([:], snapshot.isLeader ? 1 : 0)])
        let alive = snapshot.members.filter(\.alive).count
        out.gauge("relayd_cluster_members", "Cluster members this node knows, itself included, by state (alive, dead).",
                  [(["state": "alive"], Double(alive)), (["state": "dead"], Double(snapshot.members.count - alive))])
        out.counter("relayd_cluster_leader_changes_total", "Times this node saw a new cluster leader.",
                    [([:], Double(snapshot.leaderChanges))])
        out.gauge("relayd_cluster_term", "The leadership term this node knows (etcd: the leader key's revision).",
                  [([:], Double(snapshot.term))])
        out.gauge("relayd_cluster_probing_locally", "1 while this node runs its own active probes (it leads, or no "
                  + "leader is known: fail open); 0 while it adopts the leader's scores.",
                  [([:], snapshot.probesLocally ? 1 : 0)])
        out.counter("relayd_cluster_publications_total", "Score publications this node made as leader.",
                    [([:], Double(cluster.publications.load(ordering: .relaxed)))])
        out.counter("relayd_cluster_adoptions_total", "Leader publications this node adopted as follower.",
                    [([:], Double(cluster.adoptions.load(ordering: .relaxed)))])
        if snapshot.mode == .etcd {
            out.counter("relayd_cluster_etcd_errors_total",
                        "Calls to etcd that failed (unreachable, refused, reply not understood).",
                        [([:], Double(cluster.etcdErrors.load(ordering: .relaxed)))])
        } else {
            out.counter("relayd_cluster_heartbeats_dropped_total",
                        "Datagrams on the heartbeat port dropped: not a heartbeat, bad tag, unknown node, replayed.",
                        [([:], Double(cluster.heartbeatsDropped.load(ordering: .relaxed)))])
        }
        return out.families
    }
}
