import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

/// `relayd probe` against live, dead and slow servers, in both output forms.
@Suite struct ProbeCommandTests {
    @Test func probeReportsLiveDeadAndSlowServers() async throws {
        try await withTestServers { servers in
            let live = servers.add(try TestBackend.echo())
            let fastHTTP = servers.add(try TestBackend.http(status: 200))
            let slowHTTP = servers.add(try TestBackend.http(status: 200, delay: .milliseconds(300)))
            let failingHTTP = servers.add(try TestBackend.http(status: 500))
            let dead = try deadAddress()
            let path = try temporaryFile("""
                { backends: {
                    tcp: { servers: ["\(live.address)", "\(dead)"], probe: { kind: "tcp", timeout: "500ms" } },
                    web: { servers: ["\(slowHTTP.address)", "\(failingHTTP.address)", "\(fastHTTP.address)"],
                           probe: { kind: "http", path: "/healthz", timeout: "2s" } },
                } }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }

            let (status, table) = try await runRelayd(["probe", "-c", path, "--count", "3"])
            #expect(status == 0, "\(table)")
            let lines = table.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("BACKEND") == true)
            let deadLine = try #require(lines.first { $0.contains("\(dead)") })
            #expect(deadLine.contains("down") && deadLine.contains("Connection refused"))
            let failingLine = try #require(lines.first { $0.contains("\(failingHTTP.address)") })
            #expect(failingLine.contains("down") && failingLine.contains("HTTP status 500"))
            // Best first within a group: the fast HTTP server before the slow one.
            let fastIndex = try #require(lines.firstIndex { $0.contains("\(fastHTTP.address)") })
            let slowIndex = try #require(lines.firstIndex { $0.contains("\(slowHTTP.address)") })
            #expect(fastIndex < slowIndex)

            let (jsonStatus, json) = try await runRelayd(["probe", "-c", path, "--json", "--count", "2"])
            #expect(jsonStatus == 0)
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(rows.count == 5)
            for row in rows {
                for key in ["backend", "server", "healthy", "latency_ms", "jitter_ms", "success_rate", "score"] {
                    #expect(row.keys.contains(key), "missing \(key) in \(row)")
                }
            }
            let slowRow = try #require(rows.first { $0["server"] as? String == "\(slowHTTP.address)" })
            #expect(slowRow["healthy"] as? Bool == true)
            #expect((slowRow["latency_ms"] as? Double ?? 0) >= 250)
            let deadRow = try #require(rows.first { $0["server"] as? String == "\(dead)" })
            #expect(deadRow["healthy"] as? Bool == false)
            #expect(deadRow["latency_ms"] is NSNull)
        }
    }

    @Test func probeExitsOneWhenAGroupHasNoHealthyServer() async throws {
        try await withTestServer(TestBackend.echo()) { live in
            let path = try temporaryFile("""
                { backends: {
                    ok: { servers: ["\(live.address)"] },
                    gone: { servers: ["\(try deadAddress())", "\(try deadAddress())"], probe: { timeout: "300ms" } },
                } }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (status, output) = try await runRelayd(["probe", "-c", path, "--count", "1"])
            #expect(status == 1, "\(output)")
        }
    }

    @Test func probeOfAGroupBehindAUDPListenerUsesUDPByDefault() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            let path = try temporaryFile("""
                { listeners: [ { name: "dns", protocol: "udp", listen: "127.0.0.1:0", backend: "dns" } ],
                  backends: { dns: { servers: ["\(backend.address)"], probe: { timeout: "500ms" } } } }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let (status, json) = try await runRelayd(["probe", "-c", path, "--json", "--count", "1"])
            #expect(status == 0, "\(json)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [[String: Any]])
            #expect(rows.count == 1)
            #expect(rows.first?["healthy"] as? Bool == true, "\(rows)")
        }
    }
}
