import Foundation
import RelayIO
import RelayProtocol
import TestSupport
import Testing
@testable import RelayCore

/// What operators see of the cluster: `GET /cluster`, the `relayd_cluster_*` metrics, and nothing of it when off.
@Suite struct ClusterAdminTests {
    @Test(.timeLimit(.minutes(1)))
    func clusterEndpointAndMetricsOfALoneStaticNode() async throws {
        let keyFile = try ClusterStaticIntegrationTests.keyFile()
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let silentPeer = try PortReservation(.udp)
        defer { silentPeer.release() }
        try await withRelay("""
            {
              admin: { listen: "127.0.0.1:0" },
              cluster: { node_id: "a1", mode: "static",
                         static: { listen: "127.0.0.1:0", peers: ["b2@\(silentPeer.address)"], key_file: "\(keyFile)",
                                   heartbeat: "50ms", dead_after: "200ms" } },
            }
            """, level: .info) { relay in
            let admin = try #require(relay.server.adminAddress)
            try await eventually("a1 leads") { relay.server.cluster.current.isLeader }
            let response = try await http(admin, "/cluster")
            #expect(response.status == 200)
            let text = response.text
            #expect(text.hasPrefix(#"{"node_id":"a1","mode":"static","leader":"a1","is_leader":true,"term":1,"#
                                   + #""members":[{"node_id":"a1","address":null,"alive":true,"last_seen_ms":0},"#
                                   + #"{"node_id":"b2","address":"\#(silentPeer.address)","alive":false,"last_seen_ms":null}],"#
                                   + #""probing_locally":true}"#), "\(text)")

            let metrics = try PrometheusExposition(parsing: try await http(admin, "/metrics").text)
            #expect(metrics.value("relayd_cluster_is_leader") == 1)
            #expect(metrics.value("relayd_cluster_members", ["state": "alive"]) == 1)
            #expect(metrics.value("relayd_cluster_members", ["state": "dead"]) == 1)
            #expect(metrics.value("relayd_cluster_leader_changes_total") == 1)
            #expect(metrics.value("relayd_cluster_heartbeats_dropped_total") == 0)
            #expect(metrics.family("relayd_cluster_etcd_errors_total") == nil)
        }
    }

    @Test func offModeAnswersOffAndExportsNothing() async throws {
        try await withRelay(#"{ admin: { listen: "127.0.0.1:0" } }"#) { relay in
            let admin = try #require(relay.server.adminAddress)
            let response = try await http(admin, "/cluster")
            #expect(response.text == #"{"node_id":null,"mode":"off","leader":null,"is_leader":false,"term":0,"#
                    + #""members":[],"probing_locally":true}"# + "\n")
            let metrics = try PrometheusExposition(parsing: try await http(admin, "/metrics").text)
            #expect(metrics.families.filter { $0.name.hasPrefix("relayd_cluster_") }.isEmpty)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func etcdErrorsAreCountedWhenEtcdIsUnreachable() async throws {
        let nobody = try PortReservation(.tcp)
        defer { nobody.release() }
        try await withRelay("""
            { admin: { listen: "127.0.0.1:0" },
              cluster: { node_id: "e1", mode: "etcd", etcd: { endpoints: ["http://\(nobody.address)"], ttl: "2s" } } }
            """, level: .info) { relay in
            let admin = try #require(relay.server.adminAddress)
            try await eventually("etcd errors counted") { relay.server.cluster.etcdErrors.load(ordering: .relaxed) >= 2 }
            let metrics = try PrometheusExposition(parsing: try await http(admin, "/metrics").text)
            #expect((metrics.value("relayd_cluster_etcd_errors_total") ?? 0) >= 2)
            #expect(metrics.value("relayd_cluster_is_leader") == 0)
            #expect(relay.logs.lines.contains { $0.contains("etcd call failed") && $0.contains(nobody.address.description) })
            // No leader for a TTL: this node probes for itself.
            try await eventually("fail open") { relay.server.cluster.current.probesLocally }
        }
    }
}

/// Reloading a cluster node: new peers apply, a new node id waits for a restart and the log says so.
@Suite struct ClusterReloadTests {
    static func config(node: String, peers: [String], keyFile: String) -> String {
        """
        { cluster: { node_id: "\(node)", mode: "static",
                     static: { listen: "127.0.0.1:0", peers: [\(peers.map { "\"\($0)\"" }.joined(separator: ", "))],
                               key_file: "\(keyFile)", heartbeat: "50ms", dead_after: "200ms" } } }
        """
    }

    @Test(.timeLimit(.minutes(1)))
    func newPeersApply_aNewNodeIdNeedsARestart() async throws {
        let keyFile = try ClusterStaticIntegrationTests.keyFile()
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let b2 = try PortReservation(.udp), c3 = try PortReservation(.udp)
        defer { b2.release(); c3.release() }
        let first = Self.config(node: "a1", peers: ["b2@\(b2.address)"], keyFile: keyFile)
        let second = Self.config(node: "z9", peers: ["b2@\(b2.address)", "c3@\(c3.address)"], keyFile: keyFile)
        try await withReloadableRelay(first) { relay, path in
            try await eventually("a1 leads") { relay.server.cluster.current.isLeader }
            try second.write(toFile: path, atomically: true, encoding: .utf8)
            let result = await relay.server.reload()
            #expect(result.applied, "\(result.message)")
            let view = relay.server.cluster.current
            #expect(view.nodeID == "a1")
            #expect(view.members.map(\.nodeID) == ["a1", "b2", "c3"])
            #expect(view.isLeader)
            #expect(relay.logs.lines.contains { $0.contains("restart") && $0.contains("cluster.node_id") })
        }
    }
}
