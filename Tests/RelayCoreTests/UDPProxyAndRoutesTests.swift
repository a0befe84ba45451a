import Foundation
import Testing
import TestSupport
import RelayIO
import RelayProtocol
@testable import RelayCore

/// UDP listeners: a version 2 PROXY header (`DGRAM`) before each datagram to a group with `send_proxy: "v2"`, and
/// `routes` by client address.
@Suite(.serialized) struct UDPProxyAndRoutesTests {
    @Test func sendProxyV2_prefixesEveryDatagramWithTheClient() async throws {
        try await withTestServer(try UDPEchoBackend()) { echo in
            let listen = try freeUDPAddress()
            let config = """
                { listeners: [ { name: "dns", protocol: "udp", listen: "\(listen)", backend: "app" } ],
                  backends: { app: { servers: ["\(echo.address)"], send_proxy: "v2",
                                     probe: { kind: "udp", interval: "200ms", timeout: "300ms" } } } }
                """
            try await withRelay(config) { relay in
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                let local = try client.socket.localAddress()
                for payload in ["abc", "second datagram"] {
                    // The echo sends back what it got: the header, then the payload.
                    let reply = try await client.roundTrip(Array(payload.utf8))
                    guard case let .header(header, length) = ProxyHeader.parse(reply) else {
                        Issue.record("no header before \(payload): \(reply)")
                        return
                    }
                    #expect(header.version == .v2 && header.transport == .datagram)
                    #expect(header.addresses.source?.address == local.addressBytes)
                    #expect(header.addresses.source?.port == local.port)
                    #expect(header.addresses.destination?.port == listen.port)
                    #expect(Array(reply[length...]) == Array(payload.utf8))
                }
                let listener = try #require(relay.server.udpListeners["dns"])
                // Bytes count the client's payloads, not the headers.
                #expect(listener.counters.bytesUp.load(ordering: .relaxed) == 3 + 15)
            }
        }
    }

    @Test func sourceRoutesPickTheGroupOfANewFlow() async throws {
        try await withTestServers { servers in
            let near = servers.add(try UDPEchoBackend())
            let far = servers.add(try UDPEchoBackend())
            let listen = try freeUDPAddress()
            let config = """
                { listeners: [ { name: "dns", protocol: "udp", listen: "\(listen)", backend: "far",
                                 routes: [ { name: "loopback", source: ["127.0.0.0/8"], backend: "near" },
                                           { source: ["10.0.0.0/8"], backend: "far" } ] } ],
                  backends: { near: { servers: ["\(near.address)"] }, far: { servers: ["\(far.address)"] } } }
                """
            try await withRelay(config) { relay in
                for index in 0..<3 {
                    let client = try UDPTestClient(try relay.address("dns"))
                    defer { client.close() }
                    #expect(try await client.roundTrip(Array("q\(index)".utf8)) == Array("q\(index)".utf8))
                }
                #expect(near.requests.count >= 3)
                #expect(far.requests.count == 0)
                let listener = try #require(relay.server.udpListeners["dns"])
                let counts = Dictionary(uniqueKeysWithValues: try #require(listener.routes).counts.map { ($0.name, $0.connections) })
                #expect(counts == ["loopback": 3, "routes[1]": 0, "default": 0])
            }
        }
    }

    @Test func udpConfigRefusesWhatItCannotDo() {
        func problem(_ listener: String, group: String = "") -> String {
            let text = """
                { listeners: [ { name: "u", protocol: "udp", listen: "127.0.0.1:0", backend: "g" \(listener) } ],
                  backends: { g: { servers: ["127.0.0.1:1"] \(group) } } }
                """
            do {
                _ = try RelayConfig.parse(text)
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(problem(#", routes: [ { sni: ["a.example"], backend: "g" } ]"#).contains("listeners[0].routes[0]"))
        #expect(problem("", group: #", send_proxy: "v1""#).contains("version 1 is text"))
        #expect(problem("", group: #", send_proxy: "v2""#) == "accepted")
    }
}
