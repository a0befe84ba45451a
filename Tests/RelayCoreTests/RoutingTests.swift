import Foundation
import Testing
import TestSupport
import RelayIO
import RelayProtocol
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// `routes` on a TCP listener: by TLS server name (exact and wildcard), ALPN and client address, first match
/// wins, the listener's backend for the rest; the bytes reach the server untouched.
@Suite(.serialized) struct RoutingTests {
    /// A backend that answers every connection with its name and the bytes it received first, then closes.
    static func named(_ name: String) throws -> TestBackend {
        try TestBackend { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
            defer { buffer.deallocate() }
            let count = try await connection.read(into: buffer, deadline: EventLoop.now() + 5_000_000_000)
            try await connection.write(Array(name.utf8) + [UInt8(ascii: ":")] + Array(buffer[0..<count]))
            connection.shutdownWrite()
        }
    }

    static func config(_ servers: [String: SocketAddress], routes: String, listener: String = "") -> String {
        let groups = servers.map { "\($0.key): { servers: [\"\($0.value)\"] }" }.joined(separator: ", ")
        return """
            { listeners: [ { name: "front", listen: "127.0.0.1:0", backend: "fallback", routes: [\(routes)] \(listener) } ],
              backends: { \(groups) } }
            """
    }

    /// Sends `bytes` and returns the name of the backend that answered and whether it got the bytes untouched.
    static func send(_ bytes: [UInt8], to address: SocketAddress) async throws -> (backend: String, intact: Bool) {
        try await withTimeout(.seconds(20), "a routed exchange") {
            let client = try await TestClient.connect(address)
            defer { client.close() }
            try await client.send(bytes)
            let reply = try await client.readToEnd()
            guard let colon = reply.firstIndex(of: UInt8(ascii: ":")) else { return (String(decoding: reply, as: UTF8.self), false) }
            return (String(decoding: reply[..<colon], as: UTF8.self), Array(reply[(colon + 1)...]) == bytes)
        }
    }

    static func hello(_ name: String?, alpn: [String] = []) -> [UInt8] {
        TLSHelloBuilder.hello(name, alpn: alpn)
    }

    @Test func serverNameAlpnAndSourceRoutes_firstMatchWins() async throws {
        try await withTestServers { servers in
            let api = servers.add(try Self.named("api"))
            let internalServer = servers.add(try Self.named("internal"))
            let h2 = servers.add(try Self.named("h2"))
            let local = servers.add(try Self.named("local"))
            let fallback = servers.add(try Self.named("fallback"))
            let config = Self.config(
                ["api": api.listener.localAddress, "internal": internalServer.listener.localAddress,
                 "h2": h2.listener.localAddress, "local": local.listener.localAddress,
                 "fallback": fallback.listener.localAddress],
                routes: """
                    { name: "api", sni: ["api.example.com"], backend: "api" },
                    { sni: ["*.internal.example"], backend: "internal" },
                    { alpn: ["h2"], backend: "h2" },
                    { source: ["10.0.0.0/8"], backend: "local" }
                    """)
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                let cases: [([UInt8], String)] = [
                    (Self.hello("api.example.com"), "api"),
                    (Self.hello("API.EXAMPLE.com", alpn: ["h2"]), "api"),
                    (Self.hello("db.internal.example"), "internal"),
                    (Self.hello("a.b.internal.example"), "internal"),
                    (Self.hello("internal.example"), "fallback"),
                    (Self.hello("www.example.com", alpn: ["http/1.1", "h2"]), "h2"),
                    (Self.hello(nil), "fallback"),
                    (Array("GET / HTTP/1.0\r\n\r\n".utf8), "fallback"),
                ]
                for (bytes, expected) in cases {
                    let (backend, intact) = try await Self.send(bytes, to: front)
                    #expect(backend == expected)
                    #expect(intact, "the bytes reached \(backend) untouched")
                }
                let listener = try #require(relay.server.tcpListeners["front"])
                guard case let .routed(routes) = listener.role else {
                    Issue.record("the listener has no routes")
                    return
                }
                let counts = Dictionary(uniqueKeysWithValues: routes.counts.map { ($0.name, $0.connections) })
                #expect(counts == ["api": 2, "routes[1]": 2, "routes[2]": 1, "routes[3]": 0, "default": 3])
                // /stats shows them too.
                let stats = await relay.server.statsJSON().text
                #expect(stats.contains(#"{"name":"api","backend":"api","connections":2}"#), "\(stats)")
                #expect(stats.contains(#"{"name":"default","backend":"fallback","connections":3}"#))
            }
        }
    }

    @Test func sourceRoutesSeeTheClientAPROXYHeaderNames() async throws {
        try await withTestServers { servers in
            let local = servers.add(try Self.named("local"))
            let fallback = servers.add(try Self.named("fallback"))
            let config = Self.config(["local": local.listener.localAddress, "fallback": fallback.listener.localAddress],
                                     routes: #"{ source: ["10.0.0.0/8"], backend: "local" }"#,
                                     listener: ", accept_proxy: true")
            try await withRelay(config) { relay in
                let front = try relay.address("front")
                let header = Array("PROXY TCP4 10.1.2.3 10.0.0.1 5000 443\r\n".utf8)
                let (backend, _) = try await Self.send(header + Array("x".utf8), to: front)
                #expect(backend == "local")
                let (other, _) = try await Self.send(Array("PROXY TCP4 192.0.2.1 10.0.0.1 5000 443\r\nx".utf8), to: front)
                #expect(other == "fallback")
            }
        }
    }

    @Test func aHelloSplitOverSegmentsIsWaitedFor() async throws {
        try await withTestServers { servers in
            let api = servers.add(try Self.named("api"))
            let fallback = servers.add(try Self.named("fallback"))
            let config = Self.config(["api": api.listener.localAddress, "fallback": fallback.listener.localAddress],
                                     routes: #"{ sni: ["api.example.com"], backend: "api" }"#)
            try await withRelay(config) { relay in
                let bytes = Self.hello("api.example.com")
                let reply = try await withTimeout {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    for start in stride(from: 0, to: bytes.count, by: 50) {
                        try await client.send(Array(bytes[start..<min(bytes.count, start + 50)]))
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    return try await client.readToEnd()
                }
                #expect(reply.starts(with: Array("api:".utf8)))
            }
        }
    }

    @Test func routesNameTheirProblems() throws {
        let base = #"{ listeners: [ { name: "a", listen: "127.0.0.1:0", backend: "g", routes: [ROUTES] } ], backends: { g: { servers: ["127.0.0.1:1"] } } }"#
        func problem(_ routes: String) -> String {
            do {
                _ = try RelayConfig.parse(base.replacingOccurrences(of: "ROUTES", with: routes))
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(problem(#"{ sni: ["a.example"], backend: "g" }, { sni: ["b.example"], backend: "nope" }"#)
            .contains("listeners[0].routes[1].backend: no backend group is named `nope`"))
        #expect(problem(#"{ sni: ["bad name"], backend: "g" }"#).contains("listeners[0].routes[0].sni"))
        #expect(problem(#"{ sni: [], backend: "g" }"#).contains("listeners[0].routes[0].sni"))
        #expect(problem(#"{ source: ["10.0.0.1/8"], backend: "g" }"#).contains("listeners[0].routes[0].source"))
        #expect(problem(#"{ sni: ["a.example"] }"#).contains("listeners[0].routes[0].backend"))
        #expect(problem(#"{ sni: ["a.example"], backend: "g", colour: 1 }"#).contains("listeners[0].routes[0].colour"))
        let echo = #"{ listeners: [ { name: "a", protocol: "echo", listen: "127.0.0.1:0", routes: [] } ] }"#
        do {
            _ = try RelayConfig.parse(echo)
            Issue.record("an echo listener took routes")
        } catch {
            #expect(error.description.contains("only tcp, udp and http listeners take `routes`"))
        }
    }
}
