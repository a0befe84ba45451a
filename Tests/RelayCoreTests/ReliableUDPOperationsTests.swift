import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// What operators see of a reliable-UDP listener: `/sessions`, `/stats`, `/cleanup`, metrics, the access log.
/// A session awaits messages without a deadline of its own: the time limit ends a test whose message never came
/// (the plain-UDP leg to the backend has no retransmission) instead of leaving the run hanging.
@Suite(.timeLimit(.minutes(5))) struct ReliableUDPOperationsTests {
    @Test func sessionsStatsCleanupAndMetricsShowTheSessions() async throws {
        let accessFile = temporaryPath("reliable-access", suffix: ".log")
        defer { try? FileManager.default.removeItem(atPath: accessFile) }
        try await withTestServer(try UDPEchoBackend()) { backend in
            let config = try reliableConfig(servers: [backend.address],
                                            more: "admin: { listen: \"127.0.0.1:0\" }, metrics: { listen: \"127.0.0.1:0\" },",
                                            accessFile: accessFile)
            try await withRelay(config) { relay in
                let admin = try #require(relay.server.adminAddress)
                let front = try relay.address("rudp")
                try await ReliableUDPClient.connect(to: front, configuration: ReliableTestKeys.client("carol"),
                                                    on: clientLoops.next()) { client in
                    for index in 0..<10 {
                        try await client.send(Array("m\(index)".utf8))
                        _ = try await client.receive()
                    }
                    let sessions = try await http(admin, "/sessions").json()
                    let listeners = try #require(sessions["listeners"] as? [[String: Any]])
                    let listed = try #require(listeners.first?["sessions"] as? [[String: Any]])
                    #expect(listed.count == 1)
                    #expect(listed.first?["client_id"] as? String == "carol")
                    #expect(listed.first?["rtt_ms"] is Double)
                    #expect(listed.first?["messages_in"] as? Int == 10)

                    let stats = try await http(admin, "/stats").json()
                    let listenerStats = try #require((stats["listeners"] as? [[String: Any]])?.first)
                    let reliable = try #require(listenerStats["reliable_udp"] as? [String: Any])
                    #expect(reliable["sessions_active"] as? Int == 1)
                    let latency = try #require(reliable["delivery_latency_ms"] as? [String: Any])
                    #expect(latency["p99"] is Double)

                    let metricsText = try await http(try #require(relay.server.metricsAddress), "/metrics").text
                    let metrics = try PrometheusExposition(parsing: metricsText)
                    #expect(metrics.value("relayd_reliable_sessions_active", ["listener": "rudp"]) == 1)
                    #expect(metrics.value("relayd_reliable_handshakes_total", ["listener": "rudp", "result": "established"]) == 1)
                    #expect(metrics.value("relayd_reliable_messages_total", ["listener": "rudp", "direction": "in"]) == 10)

                    // POST /cleanup?idle=0s closes every session: the client hears CLOSE "idle timeout".
                    let cleanup = try await http(admin, "POST", "/cleanup?idle=0s").json()
                    #expect(cleanup["expired"] as? Int == 1)
                    while try await client.receive() != nil {}
                    #expect(client.end?.reason == .idleTimeout && client.end?.byServer == true)
                }
                let listener = try #require(relay.server.reliableListeners["rudp"])
                #expect(listener.counters.sessionsClosed(.idleTimeout, byClient: false) == 1)
                #expect(await listener.store.count == 0)
                // One access-log line for the ended session, with its end and its bytes.
                var lines: [String] = []
                try await eventually("the session's access-log line") {
                    relay.server.accessLog?.flushNow()
                    let text = (try? String(contentsOfFile: accessFile, encoding: .utf8)) ?? ""
                    lines = text.split(separator: "\n").map(String.init).filter { $0.contains("proto=reliable-udp") }
                    return !lines.isEmpty
                }
                #expect(lines.count == 1, "\(lines)")
                #expect(lines.first?.contains("listener=rudp") == true && lines.first?.hasSuffix(" end=idle") == true,
                        "\(lines)")
                #expect(lines.first?.contains("server=\(backend.address) bytes_in=20 bytes_out=20") == true, "\(lines)")
            }
        }
    }
}
