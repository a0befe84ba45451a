import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// A relay with the admin API and the metrics endpoint on port 0, a TCP listener `web` in front of `servers`,
/// and a UDP listener `dns` when `udp` is given.
func adminConfig(servers: [SocketAddress], token: String? = nil, udp: [SocketAddress] = [],
                 balance: String = "round_robin") throws -> String {
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    let udpList = udp.map { "\"\($0)\"" }.joined(separator: ", ")
    // Not port 0 for UDP: see `freeUDPAddress`.
    let udpListener = udp.isEmpty ? "" : #"{ name: "dns", protocol: "udp", listen: "\#(try freeUDPAddress())", backend: "resolvers", idle_timeout: "1m" },"#
    let udpGroup = udp.isEmpty ? "" : """
        resolvers: { servers: [\(udpList)], probe: { kind: "udp", interval: "200ms", timeout: "300ms" } },
        """
    let tokenLine = token.map { "token: \"\($0)\"," } ?? ""
    return """
        {
          listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app" }, \(udpListener) ],
          backends: {
            app: { servers: [\(list)], balance: "\(balance)", probe: { interval: "200ms", timeout: "300ms" },
                   selector: { evaluation_interval: "200ms", debounce: "0s" } },
            \(udpGroup)
          },
          admin: { listen: "127.0.0.1:0", \(tokenLine) },
          metrics: { listen: "127.0.0.1:0" },
          drain_timeout: "2s",
          io: { loops: 2 },
        }
        """
}

/// Waits until every server of `group` is measured and up (bounded). An empty scoreboard (servers not yet
/// registered) does not count as healthy.
func waitUntilHealthy(_ relay: RunningRelay, group name: String) async throws {
    let group = try #require(relay.server.backendGroups[name])
    try await eventually("every server of group \(name) measured and up") {
        let breakdowns = await group.scoreboard.breakdowns()
        return !breakdowns.isEmpty && breakdowns.allSatisfy { $0.1.measured && $0.1.healthy }
    }
}

/// One echo round trip through `address`.
func echoRoundTrip(_ address: SocketAddress, _ text: String) async throws {
    let client = try await TestClient.connect(address)
    defer { client.close() }
    try await client.send(text)
    #expect(try await client.read(exactly: text.utf8.count) == Array(text.utf8))
    client.connection.shutdownWrite()
    _ = try await client.readToEnd()
}

@Suite struct AdminAPITests {
    @Test func everyReadEndpointAnswers_withTheDocumentedShape() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(try adminConfig(servers: [backend.listener.localAddress])) { relay in
                let admin = try #require(relay.server.adminAddress)
                try await waitUntilHealthy(relay, group: "app")
                try await echoRoundTrip(try relay.address("web"), "hello")

                let health = try await http(admin, "/healthz")
                #expect(health.status == 200)
                #expect(try health.json()["status"] as? String == "ok")
                #expect(health.headers["content-type"] == "application/json; charset=utf-8")

                let ready = try await http(admin, "/readyz")
                #expect(ready.status == 200)
                #expect(try ready.json()["ready"] as? Bool == true)

                let stats = try await http(admin, "/stats").json()
                #expect(stats["version"] as? String == RelaydVersion.current)
                let listeners = try #require(stats["listeners"] as? [[String: Any]])
                let web = try #require(listeners.first { $0["name"] as? String == "web" })
                let connections = try #require(web["connections"] as? [String: Any])
                #expect(connections["total"] as? Int == 1)
                let bytes = try #require(web["bytes"] as? [String: Any])
                #expect(bytes["in"] as? Int == 5 && bytes["out"] as? Int == 5)
                let process = try #require(stats["process"] as? [String: Any])
                #expect((process["rss_bytes"] as? Double ?? 0) > 0)
                let config = try #require(stats["config"] as? [String: Any])
                #expect(config["generation"] as? Int == 1)

                let backends = try await http(admin, "/backends").json()
                let groups = try #require(backends["groups"] as? [[String: Any]])
                let servers = try #require(groups.first?["servers"] as? [[String: Any]])
                #expect(servers.first?["address"] as? String == backend.listener.localAddress.description)
                #expect(servers.first?["state"] as? String == "up")
                #expect(servers.first?["admin_state"] as? String == "ready")
                let score = try #require(servers.first?["score"] as? [String: Any])
                #expect(score["total"] is Double || score["total"] is Int)

                let flows = try await http(admin, "/flows")
                #expect(flows.status == 200)
                #expect(try flows.json()["listeners"] is [Any])

                let dashboard = try await http(admin, "/dashboard")
                #expect(dashboard.status == 200)
                #expect(dashboard.headers["content-type"] == "text/html; charset=utf-8")
                #expect(dashboard.text.contains("<html"))

                let index = try await http(admin, "/")
                #expect(try index.json()["endpoints"] is [String])

                let head = try await http(admin, "HEAD", "/stats")
                #expect(head.status == 200 && head.body.isEmpty)
            }
        }
    }

    @Test func unknownPaths404_wrongMethods405_malformedRequests400() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(try adminConfig(servers: [backend.listener.localAddress])) { relay in
                let admin = try #require(relay.server.adminAddress)
                #expect(try await http(admin, "/nope").status == 404)
                #expect(try await http(admin, "/backends/app/1.2.3.4:5/explode").status == 404)
                let wrong = try await http(admin, "POST", "/stats")
                #expect(wrong.status == 405)
                #expect(wrong.headers["allow"] == "GET, HEAD")
                let getReload = try await http(admin, "GET", "/reload")
                #expect(getReload.status == 405)
                #expect(getReload.headers["allow"] == "POST")
                #expect(try await rawHTTP(admin, Array("GARBAGE\r\n\r\n".utf8)).status == 400)
                #expect(try await rawHTTP(admin, Array("GET /stats HTTP/9.9\r\n\r\n".utf8)).status == 505)
                let huge = "GET /" + String(repeating: "a", count: 20_000) + " HTTP/1.1\r\n\r\n"
                #expect(try await rawHTTP(admin, Array(huge.utf8)).status == 414)
                // Still serving after all that.
                #expect(try await http(admin, "/healthz").status == 200)
            }
        }
    }

    @Test func withAToken_everyEndpointButHealthReadinessAndTheDashboardNeedsIt() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let token = "s3cret-token-0123456789"
            try await withRelay(try adminConfig(servers: [backend.listener.localAddress], token: token)) { relay in
                let admin = try #require(relay.server.adminAddress)
                for path in ["/", "/stats", "/backends", "/flows", "/metrics"] {
                    let denied = try await http(admin, path)
                    #expect(denied.status == 401, "\(path)")
                    #expect(denied.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
                    #expect(try await http(admin, path, token: "wrong-token-0123456789").status == 401)
                    #expect(try await http(admin, path, token: token).status != 401, "\(path)")
                }
                let server = backend.listener.localAddress.description
                for path in ["/reload", "/cleanup", "/backends/app/\(server)/drain", "/backends/app/\(server)/enable"] {
                    #expect(try await http(admin, "POST", path).status == 401, "\(path)")
                }
                #expect(try await http(admin, "/dashboard").status == 200)
                // A load balancer's health check carries no secret: liveness and readiness answer without it,
                // and readiness then says only whether relayd is ready, not which groups it has.
                try await waitUntilHealthy(relay, group: "app")
                for given in [nil, "wrong-token-0123456789"] {
                    let health = try await http(admin, "/healthz", token: given)
                    #expect(health.status == 200)
                    #expect(try health.json()["status"] as? String == "ok")
                    let ready = try await http(admin, "/readyz", token: given)
                    #expect(ready.status == 200)
                    #expect(try ready.json().keys.sorted() == ["ready"])
                }
                let detailed = try await http(admin, "/readyz", token: token).json()
                #expect((detailed["healthy_servers"] as? [String: Any])?["app"] as? Int == 1)
                // The metrics endpoint of its own takes no token, as Prometheus exporters do.
                let metrics = try #require(relay.server.metricsAddress)
                #expect(try await http(metrics, "/metrics").status == 200)
            }
        }
    }

    @Test func withAToken_readinessAnswers503WithoutItWhileAGroupHasNoHealthyServer() async throws {
        let token = "s3cret-token-0123456789"
        try await withRelay(try adminConfig(servers: [try deadAddress()], token: token)) { relay in
            let admin = try #require(relay.server.adminAddress)
            // Wait for the server to be down: before that it is unmeasured, then up until `fall` failures.
            let group = try #require(relay.server.backendGroups["app"])
            try await eventually("the dead server marked down") {
                await group.scoreboard.breakdowns().first?.1.healthy == false
            }
            let ready = try await http(admin, "/readyz")
            #expect(ready.status == 503)
            #expect(try ready.json().keys.sorted() == ["ready"])
            #expect(try ready.json()["ready"] as? Bool == false)
            let detailed = try await http(admin, "/readyz", token: token)
            #expect(detailed.status == 503)
            #expect(try detailed.json()["not_ready"] as? [String] == ["app"])
        }
    }

    @Test func exposedAdminWithoutAToken_isAConfigError() {
        #expect(throws: ConfigError.self) {
            _ = try RelayConfig.parse(#"{ admin: { listen: "0.0.0.0:9901" } }"#)
        }
        #expect(throws: ConfigError.self) {
            _ = try RelayConfig.parse(#"{ admin: { listen: "127.0.0.1:9901", token: "short" } }"#)
        }
        #expect(throws: Never.self) {
            _ = try RelayConfig.parse(#"{ admin: { listen: "0.0.0.0:9901", token: "0123456789abcdef" } }"#)
        }
    }

    @Test func drainStopsNewConnections_enableBringsThemBack() async throws {
        try await withTestServers { servers in
            let first = servers.add(try TestBackend.echo())
            let second = servers.add(try TestBackend.echo())
            let config = try adminConfig(servers: [first.listener.localAddress, second.listener.localAddress])
            try await withRelay(config) { relay in
                let admin = try #require(relay.server.adminAddress)
                let web = try relay.address("web")
                try await waitUntilHealthy(relay, group: "app")
                let target = first.listener.localAddress.description

                let drained = try await http(admin, "POST", "/backends/app/\(target)/drain")
                #expect(drained.status == 200)
                #expect(try drained.json()["changed"] as? Bool == true)
                let before = first.connections.count
                for index in 0..<10 { try await echoRoundTrip(web, "drained-\(index)") }
                #expect(first.connections.count == before, "a drained server got new connections")

                let backends = try await http(admin, "/backends").json()
                let servers = try #require((backends["groups"] as? [[String: Any]])?.first?["servers"] as? [[String: Any]])
                let row = try #require(servers.first { $0["address"] as? String == target })
                #expect(row["admin_state"] as? String == "drain")
                #expect(row["in_active_set"] as? Bool == false)

                #expect(try await http(admin, "POST", "/backends/app/\(target)/enable").status == 200)
                for index in 0..<10 { try await echoRoundTrip(web, "enabled-\(index)") }
                #expect(first.connections.count > before)

                #expect(try await http(admin, "POST", "/backends/nope/\(target)/drain").status == 404)
                #expect(try await http(admin, "POST", "/backends/app/127.0.0.1:1/drain").status == 404)
            }
        }
    }

    @Test func reloadEndpoint_appliesAGoodConfig_andRefusesABadOne() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let text = try adminConfig(servers: [backend.listener.localAddress])
            try await withReloadableRelay(text) { relay, path in
                let admin = try #require(relay.server.adminAddress)
                try text.replacingOccurrences(of: "drain_timeout: \"2s\"", with: "drain_timeout: \"3s\"")
                    .write(toFile: path, atomically: true, encoding: .utf8)
                let applied = try await http(admin, "POST", "/reload")
                #expect(applied.status == 200)
                #expect(try applied.json()["generation"] as? Int == 2)

                try "{ listeners: [ ] ".write(toFile: path, atomically: true, encoding: .utf8)
                let refused = try await http(admin, "POST", "/reload")
                #expect(refused.status == 400)
                #expect(try refused.json()["applied"] as? Bool == false)
                let stats = try await http(admin, "/stats").json()
                let config = try #require(stats["config"] as? [String: Any])
                #expect(config["generation"] as? Int == 2)
                let last = try #require(config["last_reload"] as? [String: Any])
                #expect(last["result"] as? String == "failure")
            }
        }
    }

    @Test func cleanupClosesIdleFlowsNow() async throws {
        try await withTestServers { servers in
            let tcp = servers.add(try TestBackend.echo())
            let udp = servers.add(try UDPEchoBackend())
            try await withRelay(try adminConfig(servers: [tcp.listener.localAddress], udp: [udp.address])) { relay in
                let admin = try #require(relay.server.adminAddress)
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                #expect(try await client.roundTrip(Array("q".utf8)) == Array("q".utf8))
                let flows = try await http(admin, "/flows").json()
                let listener = try #require((flows["listeners"] as? [[String: Any]])?.first)
                #expect(listener["total"] as? Int == 1)
                let open = try #require((listener["flows"] as? [[String: Any]])?.first)
                #expect(open["server"] as? String == udp.address.description)
                #expect(open["bytes_in"] as? Int == 1)

                // Idle for less than idle_timeout (1m): a plain cleanup keeps it.
                #expect(try await http(admin, "POST", "/cleanup").json()["expired"] as? Int == 0)
                let cleaned = try await http(admin, "POST", "/cleanup?idle=0s")
                #expect(try cleaned.json()["expired"] as? Int == 1)
                #expect(await relay.server.udpListeners["dns"]!.store.count == 0)
                #expect(try await http(admin, "POST", "/cleanup?idle=soon").status == 400)
            }
        }
    }

    /// Thousands of malformed requests against the live server: each gets an answer or a close, and the
    /// server keeps serving.
    @Test func malformedRequestFlood_neverStopsTheServer() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(try adminConfig(servers: [backend.listener.localAddress])) { relay in
                let admin = try #require(relay.server.adminAddress)
                let seeds: [String] = [
                    "GET / HTTP/1.1\r\n\r\n", "POST /reload HTTP/1.1\r\nContent-Length: 5\r\n\r\nabcde",
                    "GET /stats HTTP/1.1\r\nHost: x\r\n\r\n",
                ]
                try await withTimeout(.seconds(60)) {
                    var generator = SystemRandomNumberGenerator()
                    for round in 0..<300 {
                        var bytes = Array(seeds[round % seeds.count].utf8)
                        for _ in 0..<(1 + round % 5) where !bytes.isEmpty {
                            let index = Int.random(in: 0..<bytes.count, using: &generator)
                            switch round % 4 {
                            case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                            case 1: bytes.insert(contentsOf: [0x0D, 0x00, 0xFF], at: index)
                            case 2: bytes.removeSubrange(index..<bytes.count)
                            default: bytes.insert(contentsOf: Array(repeating: UInt8(ascii: "9"), count: 30), at: index)
                            }
                        }
                        // A response, or the server closing on a request it waits more for, are both fine; a hang is
                        // not (bounded by the half-close: the server sees end of stream).
                        let client = try await TestClient.connect(admin)
                        if !bytes.isEmpty { try await client.send(bytes) }
                        client.connection.shutdownWrite()
                        _ = try await client.readToEnd(limit: 1 << 20)
                        client.close()
                    }
                }
                #expect(try await http(admin, "/healthz").status == 200)
            }
        }
    }
}
