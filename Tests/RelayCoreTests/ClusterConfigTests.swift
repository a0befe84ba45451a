import Foundation
import RelayProtocol
import TestSupport
import Testing
@testable import RelayCore

/// The `cluster` section: defaults, both modes, and an error with the key's path for each mistake.
@Suite struct ClusterConfigTests {
    static let key = String(repeating: "ab", count: 32)

    func problems(_ cluster: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
        configIssues("{ cluster: \(cluster) }", sourceLocation: sourceLocation).map { "\($0.path): \($0.message)" }
    }

    @Test func offByDefault() throws {
        #expect(try RelayConfig.parse("{}").cluster == ClusterConfig())
        #expect(ClusterConfig().mode == .off)
    }

    @Test func staticModeReadsPeersAndTheKeyFile() throws {
        let keyFile = try temporaryFile("# made by relayd keygen --client-id CLUSTER\nCLUSTER \(Self.key)\n", suffix: ".key")
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        let config = try RelayConfig.parse("""
            { cluster: { node_id: "n1", mode: "static",
                         static: { listen: "127.0.0.1:7946", peers: ["n2@127.0.0.1:7947", "n3@[::1]:7948"],
                                   key_file: "\(keyFile)", heartbeat: "250ms", dead_after: "1s" } } }
            """).cluster
        #expect(config.nodeID == "n1" && config.mode == .static)
        #expect(config.staticMode.peers.map(\.description) == ["n2@127.0.0.1:7947", "n3@[::1]:7948"])
        #expect(config.staticMode.key == Array(repeating: 0xAB, count: 32))
        #expect(config.staticMode.heartbeat == .milliseconds(250) && config.staticMode.deadAfter == .seconds(1))
    }

    @Test func etcdModeDefaultsAndEndpoints() throws {
        let config = try RelayConfig.parse("""
            { cluster: { node_id: "n1", mode: "etcd",
                         etcd: { endpoints: ["http://127.0.0.1:2379", "http://[::1]:2379/"], ttl: "5s" } } }
            """).cluster
        #expect(config.etcd.endpoints.map(\.description) == ["127.0.0.1:2379", "[::1]:2379"])
        #expect(config.etcd.prefix == "/relayd/" && config.etcd.ttlSeconds == 5)
        #expect(try RelayConfig.parse(#"{ cluster: { node_id: "a", mode: "etcd" } }"#).cluster.etcd.endpoints
                .map(\.description) == ["127.0.0.1:2379"])
    }

    @Test func mistakesNameTheirKey() throws {
        #expect(problems(#"{ mode: "etcd" }"#) == ["cluster.node_id: missing; every node of a cluster needs its own id, such as \"n1\""])
        #expect(problems(#"{ node_id: "n1", mode: "statik" }"#).first?.hasPrefix("cluster.mode: expected one of") == true)
        #expect(problems(#"{ node_id: "n 1" }"#).first?.hasPrefix("cluster.node_id: expected a node id") == true)
        #expect(problems(#"{ node_id: "n1", mode: "static", static: { listen: "127.0.0.1:7946" } }"#).first?
                .contains("`static.key_file` is missing") == true)
        #expect(problems(#"{ node_id: "n1", mode: "static", static: { key_file: "/nonexistent/cluster.key" } }"#).first?
                .hasPrefix("cluster.static.key_file: cannot read the cluster key file") == true)
        #expect(problems(#"{ node_id: "n1", static: { peers: ["n2"] } }"#).first?
                .hasPrefix("cluster.static.peers[0]: expected a peer such as") == true)
        #expect(problems(#"{ node_id: "n1", static: { heartbeat: "1s", dead_after: "1s" } }"#).first?
                .hasPrefix("cluster.static.dead_after: must be at least two heartbeats") == true)
        #expect(problems(#"{ node_id: "n1", etcd: { endpoints: ["https://127.0.0.1:2379"] } }"#).first?
                .contains("relayd speaks plain HTTP to etcd, not TLS") == true)
        #expect(problems(#"{ node_id: "n1", etcd: { ttl: "1500ms" } }"#).first?
                .hasPrefix("cluster.etcd.ttl: expected whole seconds of at least 2s") == true)
        #expect(problems(#"{ node_id: "n1", etcd: { prefix: "relayd" } }"#).first?
                .hasPrefix("cluster.etcd.prefix: expected a key prefix") == true)
        #expect(problems(#"{ node_id: "n1", etcd: { endpoint: [] } }"#).first?
                .hasPrefix("cluster.etcd.endpoint: unknown key; did you mean `endpoints`?") == true)
    }

    @Test func keyFileMustHoldExactlyOneKey() throws {
        let two = try temporaryFile("A \(Self.key)\nB \(Self.key)\n", suffix: ".key")
        defer { try? FileManager.default.removeItem(atPath: two) }
        let issues = problems(#"{ node_id: "n1", static: { key_file: "\#(two)" } }"#)
        #expect(issues.first?.contains("must hold exactly one `CLUSTER HEX_KEY` line (found 2)") == true)
    }

    @Test func reloadKeepsIdentityAndSaysItNeedsARestart() throws {
        let old = try RelayConfig.parse(#"{ cluster: { node_id: "n1", mode: "etcd" } }"#)
        let renamed = try RelayConfig.parse(#"{ cluster: { node_id: "n9", mode: "etcd", etcd: { ttl: "4s" } } }"#)
        let plan = ReloadPlan(from: old, to: renamed)
        #expect(plan.needsRestart == ["cluster.node_id"])
        #expect(plan.clusterChanged)
        let peersOnly = try RelayConfig.parse(#"{ cluster: { node_id: "n1", mode: "etcd", etcd: { endpoints: ["http://127.0.0.1:2380"] } } }"#)
        let endpointPlan = ReloadPlan(from: old, to: peersOnly)
        #expect(endpointPlan.needsRestart.isEmpty && endpointPlan.clusterChanged && !endpointPlan.isEmpty)
    }

    /// The README's three-node examples: the etcd configs as shipped, the static ones beside a key file.
    @Test func shippedClusterConfigurationsParse() throws {
        let directory = ConfigParsingTests.packageRoot + "/Configurations/cluster"
        for node in 1...3 {
            let config = try RelayConfig.load(path: "\(directory)/etcd-n\(node).json5")
            #expect(config.cluster.nodeID == "n\(node)" && config.cluster.mode == .etcd)
            let text = try TextFile.read("\(directory)/static-n\(node).json5", kind: "a config")
            let keyFile = try temporaryFile("CLUSTER \(Self.key)\n", suffix: ".key")
            defer { try? FileManager.default.removeItem(atPath: keyFile) }
            let staticConfig = try RelayConfig.parse(text.replacingOccurrences(of: "\"cluster.key\"", with: "\"\(keyFile)\""))
            #expect(staticConfig.cluster.staticMode.peers.count == 2)
            #expect(!staticConfig.cluster.staticMode.peers.contains { $0.nodeID == "n\(node)" })
        }
    }
}
