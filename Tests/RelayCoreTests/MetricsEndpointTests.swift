import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

@Suite struct MetricsEndpointTests {
    /// Sends known traffic, scrapes, and checks that the text is valid and the counters match what was sent.
    @Test func countersMatchTheTrafficSent() async throws {
        try await withTestServers { servers in
            let first = servers.add(try TestBackend.echo())
            let second = servers.add(try TestBackend.echo())
            let udpBackend = servers.add(try UDPEchoBackend())
            let config = try adminConfig(servers: [first.listener.localAddress, second.listener.localAddress],
                                     udp: [udpBackend.address])
            try await withRelay(config) { relay in
                try await waitUntilHealthy(relay, group: "app")
                let web = try relay.address("web")
                let connections = 12
                for index in 0..<connections { try await echoRoundTrip(web, "message-\(String(format: "%03d", index))") }
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                for index in 0..<5 { _ = try await client.roundTrip(Array("dns-\(index)".utf8)) }

                // The last reply is counted just after it is sent, and a connection just after its client saw the
                // end of it: scrape until those have settled.
                let metrics = try #require(relay.server.metricsAddress)
                var response = try await http(metrics, "/metrics")
                try await eventually("the last datagram and connection counted") {
                    response = try await http(metrics, "/metrics")
                    let exposition = try PrometheusExposition(parsing: response.text)
                    return exposition.value("relayd_udp_datagrams_total", ["listener": "dns", "direction": "out"]) == 5
                        && exposition.value("relayd_connections_active", ["listener": "web"]) == 0
                        && exposition.value("relayd_connection_duration_seconds_count", ["listener": "web"])
                            == Double(connections)
                }
                #expect(response.status == 200)
                #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
                let text = response.text
                let exposition = try PrometheusExposition(parsing: text)

                #expect(exposition.value("relayd_connections_total", ["listener": "web"]) == Double(connections))
                #expect(exposition.value("relayd_connections_active", ["listener": "web"]) == 0)
                #expect(exposition.value("relayd_connections_closed_total", ["listener": "web", "end": "closed"])
                        == Double(connections))
                let perMessage = Double("message-000".utf8.count)
                #expect(exposition.value("relayd_bytes_total", ["listener": "web", "direction": "in"])
                        == perMessage * Double(connections))
                #expect(exposition.value("relayd_bytes_total", ["listener": "web", "direction": "out"])
                        == perMessage * Double(connections))
                #expect(exposition.value("relayd_connection_duration_seconds_count", ["listener": "web"]) == Double(connections))
                #expect(exposition.sum("relayd_backend_connections_total", where: ["backend": "app"]) == Double(connections))
                #expect(exposition.value("relayd_backend_connect_duration_seconds_count", ["backend": "app"])
                        == Double(connections))
                #expect(exposition.value("relayd_backend_healthy", ["backend": "app",
                                                                    "server": first.listener.localAddress.description]) == 1)
                #expect((exposition.value("relayd_backend_score", ["backend": "app",
                                                                   "server": first.listener.localAddress.description]) ?? 0) > 0)
                #expect(exposition.value("relayd_backend_active_set_size", ["backend": "app"]) == 2)
                #expect(exposition.value("relayd_probes_total", ["backend": "app", "result": "success"]) ?? 0 >= 2)
                #expect(exposition.value("relayd_udp_datagrams_total", ["listener": "dns", "direction": "in"]) == 5)
                #expect(exposition.value("relayd_udp_datagrams_total", ["listener": "dns", "direction": "out"]) == 5)
                #expect(exposition.value("relayd_udp_flows_total", ["listener": "dns"]) == 1)
                #expect(exposition.value("relayd_udp_flows_active", ["listener": "dns"]) == 1)
                #expect(exposition.value("relayd_udp_dropped_datagrams_total", ["listener": "dns", "reason": "flow_limit"]) == 0)
                #expect(exposition.value("relayd_config_generation") == 1)
                #expect(exposition.value("relayd_config_reloads_total", ["result": "failure"]) == 0)
                #expect(exposition.value("relayd_service_restarts_total", ["service": "web"]) == 0)
                #expect(exposition.family("relayd_build_info") != nil)
                #expect((exposition.value("process_resident_memory_bytes") ?? 0) > 0)
                #expect((exposition.value("process_open_fds") ?? 0) > 3)
                #expect(exposition.value("process_start_time_seconds") != nil)
                #expect(exposition.family("process_cpu_seconds_total") != nil)

                // The same text on the admin port.
                let admin = try #require(relay.server.adminAddress)
                let viaAdmin = try PrometheusExposition(parsing: try await http(admin, "/metrics").text)
                #expect(viaAdmin.value("relayd_connections_total", ["listener": "web"]) == Double(connections))

                // Other paths and methods on the metrics port.
                #expect(try await http(metrics, "/other").status == 404)
                #expect(try await http(metrics, "POST", "/metrics").status == 405)

                try await checkWithPromtool(text)
            }
        }
    }

    /// A reload and a restart show up in the counters.
    @Test func reloadsAreCounted() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let text = try adminConfig(servers: [backend.listener.localAddress])
            try await withReloadableRelay(text) { relay, path in
                let metrics = try #require(relay.server.metricsAddress)
                try text.replacingOccurrences(of: "\"2s\"", with: "\"4s\"").write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await relay.server.reload().applied)
                try "{ nonsense".write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await !relay.server.reload().applied)
                let exposition = try PrometheusExposition(parsing: try await http(metrics, "/metrics").text)
                #expect(exposition.value("relayd_config_reloads_total", ["result": "success"]) == 1)
                #expect(exposition.value("relayd_config_reloads_total", ["result": "failure"]) == 1)
                #expect(exposition.value("relayd_config_last_reload_successful") == 0)
                #expect(exposition.value("relayd_config_generation") == 2)
            }
        }
    }

    /// Runs `promtool check metrics` on `text` when promtool is installed; our own parser above already
    /// validated the format either way.
    private func checkWithPromtool(_ text: String) async throws {
        guard promtoolAvailable else {
            print("note: promtool (Debian package prometheus) is not installed; the format was checked by PrometheusExposition only")
            return
        }
        let (status, report) = try await runPromtool(text)
        #expect(status == 0, "promtool: \(report)")
        #expect(report.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool lint: \(report)")
    }
}
