import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport
import RelayIO
import RelayProtocol
@testable import RelayCore

/// The PROXY protocol through a running relay: relayd writing the header to servers (`send_proxy`, also on pooled
/// connections and on probes), reading it from trusted proxies (`accept_proxy`, `proxy_trusted`), and refusing what
/// it must. The backend echoes, so the client reads back exactly what the server got.
@Suite(.serialized) struct ProxyProtocolTests {
    static func config(backend: SocketAddress, listener: String = "", group: String = "",
                       probe: String = #"interval: "200ms", timeout: "300ms""#) -> String {
        """
        {
          listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app" \(listener) } ],
          backends: { app: { servers: ["\(backend)"], probe: { \(probe) } \(group) } },
          drain_timeout: "2s",
        }
        """
    }

    /// Sends `bytes` (in `parts` pieces, 30 ms apart), half-closes, and reads to the end.
    static func exchange(_ address: SocketAddress, _ bytes: [UInt8], parts: Int = 1) async throws
        -> (reply: [UInt8], local: SocketAddress)
    {
        try await withTimeout(.seconds(20), "a PROXY protocol exchange") {
            let client = try await TestClient.connect(address)
            defer { client.close() }
            let local = try client.connection.localAddress()
            let size = max(1, (bytes.count + parts - 1) / parts)
            for start in stride(from: 0, to: bytes.count, by: size) {
                if start > 0 { try await Task.sleep(for: .milliseconds(30)) }
                try await client.send(Array(bytes[start..<min(bytes.count, start + size)]))
            }
            client.connection.shutdownWrite()
            do {
                return (try await client.readToEnd(), local)
            } catch let error as IOError where error.errno == ECONNRESET {
                // relayd closing a refused connection whose bytes it did not read: the kernel resets it.
                return ([], local)
            }
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test func sendV1_theServerSeesTheClientAndTheAddressItConnectedTo() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            try await withRelay(Self.config(backend: backend.listener.localAddress, group: #", send_proxy: "v1""#)) { relay in
                let front = try relay.address("web")
                let (reply, local) = try await Self.exchange(front, Array("hello".utf8))
                #expect(Self.text(reply) == "PROXY TCP4 127.0.0.1 127.0.0.1 \(local.port) \(front.port)\r\nhello")
            }
        }
    }

    @Test func acceptedHeaderIsPassedOnAsV2_splitOverSegments() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: ", accept_proxy: true",
                                     group: #", send_proxy: "v2""#)
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                let header = "PROXY TCP6 2001:db8::9 2001:db8::1 4000 443\r\n"
                let (reply, _) = try await Self.exchange(front, Array((header + "payload").utf8), parts: 4)
                guard case let .header(sent, length) = ProxyHeader.parse(reply) else {
                    Issue.record("the server got no v2 header: \(reply)")
                    return
                }
                #expect(sent.version == .v2 && sent.command == .proxy && sent.transport == .stream)
                #expect(sent.addresses.source?.address == IPAddressText.parseIPv6(Array("2001:db8::9".utf8)))
                #expect(sent.addresses.source?.port == 4000)
                #expect(sent.addresses.destination?.port == 443)
                #expect(Self.text(Array(reply[length...])) == "payload")
                let listener = try #require(relay.server.tcpListeners["web"])
                #expect(listener.stats.proxyHeaders.value == 1)
            }
        }
    }

    @Test func v2OptionsCarryTheServerNameAUniqueIDAndAChecksum() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = """
                { listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app",
                                 routes: [ { sni: ["api.example.com"], backend: "app" } ] } ],
                  backends: { app: { servers: ["\(backend.listener.localAddress)"], send_proxy: "v2",
                                     proxy_v2_options: ["authority", "unique_id", "crc32c"] } } }
                """
            try await withRelay(config) { relay in
                let hello = TLSHelloBuilder.hello("api.example.com")
                let (reply, _) = try await Self.exchange(try relay.address("web"), hello)
                guard case let .header(header, length) = ProxyHeader.parse(reply) else {
                    Issue.record("no valid header: \(ProxyHeader.parse(reply))")
                    return
                }
                let tlvs = Dictionary(header.tlvs.map { ($0.type, $0.value) }, uniquingKeysWith: { first, _ in first })
                #expect(tlvs[ProxyHeader.TLV.authority] == Array("api.example.com".utf8))
                #expect(tlvs[ProxyHeader.TLV.uniqueID]?.count == 32)
                #expect(header.tlvs.last?.type == ProxyHeader.TLV.crc32c)
                #expect(Array(reply[length...]) == hello)
            }
        }
    }

    @Test func bytesRightBehindTheHeaderAreKept_andAHeaderOnlyConnectionWorks() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: ", accept_proxy: true")
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                let v2 = ProxyHeader(version: .v2, addresses: .ipv4(source: [192, 0, 2, 9], sourcePort: 1,
                                                                    destination: [192, 0, 2, 1], destinationPort: 2))
                let (reply, _) = try await Self.exchange(front, v2.encode() + Array("GET / HTTP/1.0\r\n\r\n".utf8))
                #expect(Self.text(reply) == "GET / HTTP/1.0\r\n\r\n")
                let (empty, _) = try await Self.exchange(front, Array("PROXY UNKNOWN\r\n".utf8))
                #expect(empty.isEmpty)
            }
        }
    }

    @Test(arguments: ["PROXY TCP9 192.0.2.9 192.0.2.1 1 2\r\nhello", "GET / HTTP/1.0\r\n\r\n",
                      "PROXY TCP4 192.0.2.9 192.0.2.1 1 2\nhello"])
    func malformedOrMissingHeaderIsClosedAndCounted(input: String) async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: ", accept_proxy: true")
            try await withRelay(config) { relay in
                let (reply, _) = try await Self.exchange(try relay.address("web"), Array(input.utf8))
                #expect(reply.isEmpty)
                let listener = try #require(relay.server.tcpListeners["web"])
                try await eventually("the refusal counted") { listener.refusedCount(.badProxyHeader) == 1 }
                #expect(backend.connections.count == 0)
            }
        }
    }

    @Test func untrustedPeer_isRefusedWhenRequired_andRelayedUntouchedWhenOptional() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let header = "PROXY TCP4 192.0.2.9 192.0.2.1 1 2\r\nhi"
            let required = Self.config(backend: backend.listener.localAddress,
                                       listener: #", accept_proxy: true, proxy_trusted: ["10.0.0.0/8", "::1"]"#)
            try await withRelay(required) { relay in
                let (reply, _) = try await Self.exchange(try relay.address("web"), Array(header.utf8))
                #expect(reply.isEmpty)
                let listener = try #require(relay.server.tcpListeners["web"])
                try await eventually("the refusal counted") { listener.refusedCount(.badProxyHeader) == 1 }
            }
            let optional = Self.config(backend: backend.listener.localAddress,
                                       listener: #", accept_proxy: "optional", proxy_trusted: ["10.0.0.0/8"]"#)
            try await withRelay(optional) { relay in
                // Nobody untrusted chooses the address: the header reaches the server as bytes.
                let (reply, _) = try await Self.exchange(try relay.address("web"), Array(header.utf8))
                #expect(Self.text(reply) == header)
            }
        }
    }

    @Test func optional_trustedPeerMaySendAHeaderOrNot() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: #", accept_proxy: "optional""#,
                                     group: #", send_proxy: "v1""#)
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                let (plain, local) = try await Self.exchange(front, Array("plain".utf8))
                #expect(Self.text(plain) == "PROXY TCP4 127.0.0.1 127.0.0.1 \(local.port) \(front.port)\r\nplain")
                let (proxied, _) = try await Self.exchange(front, Array("PROXY TCP4 192.0.2.9 192.0.2.1 7 8\r\nx".utf8))
                #expect(Self.text(proxied) == "PROXY TCP4 192.0.2.9 192.0.2.1 7 8\r\nx")
            }
        }
    }

    @Test func clientThatClosesMidHeader_endsAtOnce() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: ", accept_proxy: true")
            try await withRelay(config) { relay in
                let start = ContinuousClock.now
                let (reply, _) = try await Self.exchange(try relay.address("web"), Array("PROXY TCP4 192.0".utf8))
                #expect(reply.isEmpty)
                // The header timeout is 30 s: ending well before it means the end of stream was seen.
                #expect(ContinuousClock.now - start < .seconds(10))
                let listener = try #require(relay.server.tcpListeners["web"])
                try await eventually("the connection finished") { listener.stats.ended(.closed).value == 1 }
            }
        }
    }

    @Test func silentTrustedPeer_isClosedAtTheFirstByteTimeout() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress,
                                     listener: #", accept_proxy: true, first_byte_timeout: "300ms""#)
            try await withRelay(config) { relay in
                let client = try await TestClient.connect(try relay.address("web"))
                defer { client.close() }
                let reply = try await withTimeout(.seconds(10)) { try await client.readToEnd() }
                #expect(reply.isEmpty)
            }
        }
    }

    @Test func pooledConnectionsGetTheHeaderWhenTaken() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress,
                                     group: #", send_proxy: "v1", pool: { strategy: "static", static: { size_per_remote: 4 } }"#)
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("warm connections") { (pools.serverPools.first?.available ?? 0) >= 2 }
                let front = try relay.address("web")
                for index in 0..<6 {
                    let (reply, local) = try await Self.exchange(front, Array("n\(index)".utf8))
                    #expect(Self.text(reply) == "PROXY TCP4 127.0.0.1 127.0.0.1 \(local.port) \(front.port)\r\nn\(index)")
                }
                let pool = try #require(pools.serverPools.first)
                #expect(pool.hits.value >= 1, "a warm connection carried a header")
            }
        }
    }

    static func header(_ client: String) -> [UInt8] {
        Array("PROXY TCP4 \(client) 192.0.2.1 4000 443\r\n".utf8)
    }

    @Test func perIPLimitsCountTheClientTheHeaderNames_notTheProxy() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress,
                                     listener: ", accept_proxy: true, max_connections_per_ip: 1")
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                // One open connection for 192.0.2.9 through the proxy (127.0.0.1).
                let held = try await TestClient.connect(front)
                defer { held.close() }
                try await held.send(Self.header("192.0.2.9") + Array("a".utf8))
                #expect(try await withTimeout { try await held.read(exactly: 1) } == Array("a".utf8))
                // Another client through the same proxy is not the proxy's second connection.
                let (other, _) = try await Self.exchange(front, Self.header("192.0.2.10") + Array("b".utf8))
                #expect(Self.text(other) == "b")
                // The same client again is over its limit.
                let (again, _) = try await Self.exchange(front, Self.header("192.0.2.9") + Array("c".utf8))
                #expect(again.isEmpty)
                let listener = try #require(relay.server.tcpListeners["web"])
                #expect(listener.refusedCount(.maxConnectionsPerIP) == 1)
            }
        }
    }

    @Test func rateLimitPerIPCountsTheClientTheHeaderNames() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let config = Self.config(backend: backend.listener.localAddress, listener: """
                , accept_proxy: true, rate_limit: { per_ip: { rate: 1, interval: "1h", burst: 1 } }
                """)
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                let (first, _) = try await Self.exchange(front, Self.header("192.0.2.9") + Array("a".utf8))
                #expect(Self.text(first) == "a")
                let (second, _) = try await Self.exchange(front, Self.header("192.0.2.9") + Array("b".utf8))
                #expect(second.isEmpty, "the client's bucket is empty")
                let (other, _) = try await Self.exchange(front, Self.header("192.0.2.10") + Array("c".utf8))
                #expect(Self.text(other) == "c", "another client through the same proxy has a bucket of its own")
                let listener = try #require(relay.server.tcpListeners["web"])
                #expect(listener.refusedCount(.rateLimited) == 1)
            }
        }
    }

    @Test func probesSendALocalHeaderOnlyWhenAsked() async throws {
        let seen = Recorder<[UInt8]>()
        let backend = try TestBackend { connection in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 1)
            defer { buffer.deallocate() }
            let count = try await connection.read(into: buffer, deadline: EventLoop.now() + 2_000_000_000)
            seen.record(Array(buffer[0..<count]))
        }
        try await withTestServer(backend) { backend in
            let config = Self.config(backend: backend.listener.localAddress,
                                     group: #", send_proxy: "v2""#, probe: #"interval: "100ms", send_proxy: true"#)
            try await withRelay(config) { _ in
                try await eventually("a probe with a header") { seen.all.contains(ProxyHeader.local(.v2).encode()) }
            }
        }
    }
}

@Suite struct ProxyProtocolConfigTests {
    static func parse(_ listener: String = "", group: String = "", proto: String = "tcp") -> Result<RelayConfig, ConfigError> {
        Result { () throws(ConfigError) -> RelayConfig in
            try RelayConfig.parse("""
                { listeners: [ { name: "a", protocol: "\(proto)", listen: "127.0.0.1:0", backend: "g" \(listener) } ],
                  backends: { g: { servers: ["127.0.0.1:1"] \(group) } } }
                """)
        }
    }

    @Test func defaults_areOffWithLoopbackTrusted() throws {
        let config = try Self.parse().get()
        #expect(config.listeners[0].acceptProxy.mode == .off)
        #expect(config.backends["g"]?.sendProxy == .off)
        let trust = config.listeners[0].acceptProxy
        #expect(trust.trusts(try SocketAddress(ip: "127.0.0.5", port: 1)))
        #expect(trust.trusts(try SocketAddress(ip: "::1", port: 1)))
        #expect(trust.trusts(try SocketAddress(ip: "::ffff:127.0.0.1", port: 1)))
        #expect(!trust.trusts(try SocketAddress(ip: "10.0.0.1", port: 1)))
    }

    @Test func acceptProxyTakesTrueFalseAndOptional_andTrustedBlocks() throws {
        let config = try Self.parse(#", accept_proxy: "optional", proxy_trusted: ["10.1.0.0/16", "192.0.2.7", "2001:db8::/32"]"#).get()
        let accept = config.listeners[0].acceptProxy
        #expect(accept.mode == .optional)
        #expect(accept.trusts(try SocketAddress(ip: "10.1.200.3", port: 1)))
        #expect(!accept.trusts(try SocketAddress(ip: "10.2.0.1", port: 1)))
        #expect(accept.trusts(try SocketAddress(ip: "192.0.2.7", port: 1)))
        #expect(!accept.trusts(try SocketAddress(ip: "192.0.2.8", port: 1)))
        #expect(accept.trusts(try SocketAddress(ip: "2001:db8:ffff::1", port: 1)))
        #expect(!accept.trusts(try SocketAddress(ip: "127.0.0.1", port: 1)))
        #expect(try Self.parse(", accept_proxy: true").get().listeners[0].acceptProxy.mode == .required)
    }

    @Test(arguments: [
        (#", accept_proxy: "yes""#, "tcp", "listeners[0].accept_proxy"),
        (#", proxy_trusted: ["10.0.0.1/8"]"#, "tcp", "listeners[0].proxy_trusted"),
        (#", proxy_trusted: ["example.com"]"#, "tcp", "listeners[0].proxy_trusted"),
        (", accept_proxy: true", "udp", "only tcp listeners take `accept_proxy`"),
    ])
    func badListenerKeysAreNamed(listener: String, proto: String, expected: String) {
        guard case let .failure(error) = Self.parse(listener, proto: proto) else {
            Issue.record("accepted \(listener)")
            return
        }
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func sendProxyChoices_andWhatCannotUseThem() {
        guard case let .failure(spelled) = Self.parse(group: #", send_proxy: "v3""#) else {
            Issue.record("v3 accepted")
            return
        }
        #expect(spelled.description.contains("backends.g.send_proxy"))
        guard case let .failure(udp) = Self.parse(group: #", send_proxy: "v1""#, proto: "udp") else {
            Issue.record("a UDP listener took a group that sends version 1 PROXY headers")
            return
        }
        #expect(udp.description.contains("version 1 is text"))
        guard case let .failure(reliable) = Self.parse(group: #", send_proxy: "v2""#, proto: "reliable-udp") else {
            Issue.record("a reliable-UDP listener took a group that sends PROXY headers")
            return
        }
        #expect(reliable.description.contains("needs a group without it") || reliable.description.contains("keys_file"))
        guard case let .failure(probe) = Self.parse(group: ", probe: { send_proxy: true }") else {
            Issue.record("probe.send_proxy without send_proxy accepted")
            return
        }
        #expect(probe.description.contains("backends.g.probe.send_proxy") && probe.description.contains("`send_proxy` is off"))
        #expect((try? Self.parse(group: #", send_proxy: "v1", probe: { send_proxy: true }"#).get())?
            .backends["g"]?.probe.proxyHeader == .v1)
    }
}
