import RelayIO

/// The multipath listeners' series: `relayd_link_*` per client listener and link (the LinkMonitor's
/// measurements and the links' byte counts) and `relayd_multipath_*` per listener of either end.
extension RelayServer {
    func collectMultipathMetrics(_ state: Runtime, into out: inout MetricFamilies) async {
        let clients = state.config.listeners.compactMap { state.multipathClients[$0.name] }
        let servers = state.config.listeners.compactMap { state.multipathServers[$0.name] }
        var rtt: [([String: String], Double)] = [], loss: [([String: String], Double)] = []
        var score: [([String: String], Double)] = [], active: [([String: String], Double)] = []
        var up: [([String: String], Double)] = [], bytes: [([String: String], Double)] = []
        var heartbeats: [([String: String], Double)] = [], switches: [([String: String], Double)] = []
        for client in clients {
            let statuses = await client.monitor.statuses
            for (link, status) in zip(client.links, statuses) {
                let labels = ["listener": client.name, "link": link.name]
                if let value = status.smoothedRTTMilliseconds { rtt.append((labels, value / 1000)) }
                loss.append((labels, status.lossPercent / 100))
                if let value = status.score { score.append((labels, value)) }
                active.append((labels, status.isActive ? 1 : 0))
                up.append((labels, status.health == .up ? 1 : 0))
                bytes.append((labels.merging(["direction": "out"]) { $1 },
                              Double(link.bytesSent.load(ordering: .relaxed))))
                bytes.append((labels.merging(["direction": "in"]) { $1 },
                              Double(link.bytesReceived.load(ordering: .relaxed))))
                heartbeats.append((labels.merging(["outcome": "sent"]) { $1 }, Double(status.heartbeatsSent)))
                heartbeats.append((labels.merging(["outcome": "answered"]) { $1 }, Double(status.answered)))
                heartbeats.append((labels.merging(["outcome": "lost"]) { $1 }, Double(status.lost)))
            }
            for (reason, count) in await client.monitor.switchesByReason.sorted(by: { $0.key < $1.key }) {
                switches.append((["listener": client.name, "reason": reason], Double(count)))
            }
        }
        out.gauge("relayd_link_rtt_seconds", "Smoothed heartbeat round-trip time of a multipath link.", rtt)
        out.gauge("relayd_link_loss_ratio", "Share of the last loss_window heartbeats lost on a multipath link.", loss)
        out.gauge("relayd_link_score", "A multipath link's score: loss_weight x loss% + rtt_weight x RTT ms + "
                  + "priority (lower is better).", score)
        out.gauge("relayd_link_active", "1 for the link a multipath client sends on now.", active)
        out.gauge("relayd_link_up", "1 while a multipath link answers heartbeats (0 probing or down).", up)
        out.counter("relayd_link_bytes_total", "Bytes of frames on a multipath link, by direction (out = sent).", bytes)
        out.counter("relayd_link_heartbeats_total", "Heartbeats on a multipath link, sent, answered in time, lost.",
                    heartbeats)
        out.counter("relayd_link_switches_total", "Times a multipath client moved its traffic to another link, by "
                    + "reason (failover: max_consecutive_fail missed; better_score: switch_threshold beaten).",
                    switches)
        let listeners: [(String, MultipathCounters)] = clients.map { ($0.name, $0.counters) }
            + servers.map { ($0.name, $0.counters) }
        out.counter("relayd_link_duplicate_frames_sent_total",
                    "Extra copies of DATA frames sent on a further link by redundancy, by multipath listener.",
                    listeners.map { (["listener": $0.0], Double($0.1.duplicatesSent.load(ordering: .relaxed))) })
        out.counter("relayd_link_duplicate_bytes_sent_total",
                    "Bytes of those extra copies: the bandwidth redundancy costs, by multipath listener.",
                    listeners.map { (["listener": $0.0], Double($0.1.duplicateBytesSent.load(ordering: .relaxed))) })
        out.counter("relayd_link_duplicate_frames_dropped_total",
                    "Frames dropped at arrival as copies of one already delivered, by multipath listener.",
                    listeners.map { (["listener": $0.0], Double($0.1.duplicatesDropped.load(ordering: .relaxed))) })
        out.counter("relayd_multipath_frames_dropped_total",
                    "Frames a multipath listener dropped, by reason (duplicate, replay: too old or an older session, "
                    + "bad_tag, malformed, unknown_client).",
                    listeners.flatMap { name, counters in
                        counters.dropCounts.map { (["listener": name, "reason": $0.0], Double($0.1)) }
                    })
        out.counter("relayd_multipath_datagrams_total",
                    "Application datagrams a multipath listener sent as DATA frames, delivered from them, or dropped.",
                    listeners.flatMap { name, counters in
                        [(["listener": name, "outcome": "sent"], Double(counters.datagramsSent.load(ordering: .relaxed))),
                         (["listener": name, "outcome": "delivered"],
                          Double(counters.datagramsDelivered.load(ordering: .relaxed))),
                         (["listener": name, "outcome": "dropped"],
                          Double(counters.datagramsDropped.load(ordering: .relaxed)))]
                    })
        out.counter("relayd_multipath_return_path_switches_total",
                    "Times a multipath server moved a client's return path to another of its links.",
                    servers.map { (["listener": $0.name], Double($0.counters.returnPathSwitches.load(ordering: .relaxed))) })
    }
}
