import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// relayd end to end as separate processes: a multipath client and a multipath server, two plain relayd UDP
/// relays as the links between them, and a UDP echo application; the relay carrying the traffic is killed
/// mid-stream and the application keeps getting answers.
@Suite struct MultipathProcessTests {
    typealias Fixtures = MultipathRelayFixtures

    func file(_ text: String) throws -> String { try temporaryFile(text) }

    @Test func killingTheActiveHop_midStream_theApplicationKeepsGettingAnswers() async throws {
        let keys = try Fixtures.keysFile()
        defer { try? FileManager.default.removeItem(atPath: keys) }
        try await withTestServer(UDPEchoBackend()) { backend in
            let serverConfig = try file(Fixtures.serverConfig(keysFile: keys, backend: backend.address))
            defer { try? FileManager.default.removeItem(atPath: serverConfig) }
            try await withRelayd(["serve", "-c", serverConfig]) { server in
                let serverAddress = try await server.listenerAddress("mp-server")
                let hopAddresses = try (0..<2).map { _ in try freeUDPAddress() }
                let hopConfigs = try hopAddresses.map { address in
                    try file("""
                        { listeners: [ { name: "hop", protocol: "udp", listen: "\(address)", backend: "mp" } ],
                          backends: { mp: { servers: ["\(serverAddress)"] } }, drain_timeout: "1s" }
                        """)
                }
                defer { for path in hopConfigs { try? FileManager.default.removeItem(atPath: path) } }
                // Not `withRelayd`: one of these is killed on purpose, which it would report as a crash.
                let hops = try hopConfigs.map { try RelaydProcess(["serve", "-c", $0]) }
                do {
                    for hop in hops { _ = try await hop.listenerAddress("hop") }
                    let clientConfig = try file(Fixtures.clientConfig(Fixtures.clientListener(
                        keysFile: keys, links: [("hop-a", "\(hopAddresses[0])"), ("hop-b", "\(hopAddresses[1])")],
                        extra: #", heartbeat_interval: "100ms", max_consecutive_fail: 3"#)))
                    defer { try? FileManager.default.removeItem(atPath: clientConfig) }
                    try await withRelayd(["serve", "-c", clientConfig]) { client in
                        let local = try SocketAddress(parsing: try await client.listenerAddress("mp-client"))
                        let admin = try SocketAddress(parsing: try await client.reportedAddress(
                            "msg=listening service=admin"))
                        try await eventually("both links up") {
                            let links = try await Self.links(admin)
                            return links.count == 2 && links.allSatisfy { $0["state"] as? String != "probing" }
                        }
                        let active = try #require(try await Self.links(admin).firstIndex {
                            $0["state"] as? String == "active"
                        })
                        let application = try MultipathEchoStream(to: local)
                        defer { application.close() }
                        _ = try await application.run(count: 200, gap: .milliseconds(10), grace: .seconds(3)) { sent in
                            if sent == 60 { hops[active].signal(SIGKILL) }
                        }
                        _ = try await hops[active].waitForExit()
                        // The application was answered before the kill and keeps being answered after it: the
                        // last 100 datagrams left a second after the kill, over the other hop. (The run's grace gives
                        // late echoes of a loaded machine 3 s.)
                        #expect(application.answered(in: 0..<50) >= 45, "\(application.answered(in: 0..<50)) of 50")
                        #expect(application.answered(in: 100..<200) >= 95,
                                "\(application.answered(in: 100..<200)) of the last 100")
                        let links = try await Self.links(admin)
                        #expect(links[active]["state"] as? String == "down")
                        #expect(links[1 - active]["state"] as? String == "active")
                    }
                } catch {
                    for hop in hops {
                        hop.signal(SIGKILL)
                        _ = try? await hop.waitForExit()
                    }
                    throw error
                }
                for hop in hops where hop.isRunning {
                    hop.signal(SIGTERM)
                    #expect(try await hop.waitForExit() == 0)
                }
            }
        }
    }

    static func links(_ admin: SocketAddress) async throws -> [[String: Any]] {
        let json = try await http(admin, "/links").json()
        let listener = try #require((json["listeners"] as? [[String: Any]])?.first)
        return try #require(listener["links"] as? [[String: Any]])
    }
}
