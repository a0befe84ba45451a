import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// A UDP listener service on 127.0.0.1:0 in front of `servers`, built and run directly (not by a
/// RelayServer) so that the test chooses how its flows' sockets open; always stopped afterwards.
func withUDPService(servers: [SocketAddress], log: LogCapture, segmentation: Bool = true,
                    openBackendSocket: @escaping UDPListenerService.BackendSocketOpener,
                    _ body: (UDPListenerService, BackendGroup) async throws -> Void) async throws {
    let config = try RelayConfig.parse(try udpConfig(servers: servers))
    let logger = Logger(level: .debug, sink: .capture(log))
    let group = try RelayServer.makeGroup(name: "app", config: try #require(config.backends["app"]), logger: logger)
    let service = try UDPListenerService(
        name: "dns", address: try freeUDPAddress(), group: group, loops: clientLoops.loops,
        idleTimeout: .seconds(30), maxFlows: 100, responses: 0, segmentation: segmentation, logger: logger,
        openBackendSocket: openBackendSocket)
    let shutdown = ShutdownSignal()
    let run = Task { try await service.run(ServiceContext(shutdown: shutdown, drainTimeout: .seconds(1), logger: logger)) }
    do {
        try await body(service, group)
    } catch {
        shutdown.trigger()
        _ = await run.result
        throw error
    }
    shutdown.trigger()
    try await run.value
}

extension UDPListenerService {
    /// The count of datagrams dropped for `reason`, as the metrics show it.
    func dropped(_ reason: String) -> Int? { dropCounts.first { $0.0 == reason }?.1 }
}

@Suite struct UDPLocalResourceTests {
    /// relayd's own shortage when opening a flow's socket drops the datagram as `local_resources`, and
    /// the server hears nothing of it: no failure counted, no sample for its Scoreboard.
    @Test(arguments: [(EMFILE, LocalResource.fileDescriptors), (ENFILE, .systemFileDescriptors),
                      (ENOBUFS, .memory), (ENOMEM, .memory), (EADDRNOTAVAIL, .ephemeralPorts)])
    func backendSocketShortageIsCountedAsLocalResources_andNeverBlamesTheServer(code: Int32, resource: LocalResource)
        async throws
    {
        try await withTestServer(UDPEchoBackend()) { backend in
            let log = LogCapture()
            try await withUDPService(servers: [backend.address], log: log) { _, _ throws(IOError) in
                throw IOError.syscall(call: "socket", errno: code)
            } _: { service, group in
                let client = try UDPTestClient(service.address)
                defer { client.close() }
                for index in 0..<5 { try await client.socket.send(Array("query \(index)".utf8)) }
                try await eventually("five drops counted") { service.dropped("local_resources") == 5 }
                #expect(service.dropped("no_backend") == 0)
                let server = try #require(group.servers.first)
                #expect(server.connectFailures.load(ordering: .relaxed) == 0)
                #expect(group.passiveSamples.drain().isEmpty, "a sample would reach the server's Scoreboard")
                #expect(server.passiveTally.take().isEmpty, "a sum would reach the server's Scoreboard")
                #expect(await group.scoreboard.breakdowns().allSatisfy { $0.1.consecutiveFailures == 0 })
                // One line for the five drops (at most one a second), saying what ran out and what to do.
                let lines = log.lines.filter { $0.contains("datagram dropped: relayd is out of") }
                #expect(lines.count == 1, "\(lines)")
                #expect(lines.first?.contains("level=warn") == true)
                #expect(lines.first?.contains("resource=\(resource.rawValue)") == true)
                #expect(lines.first?.contains("hint=\"\(resource.hint)\"") == true)
            }
        }
    }

    /// An error that is the path's or the server's keeps its old meaning: no server could take the flow.
    @Test func remoteErrorOpeningTheBackendSocketStaysNoBackend() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            let log = LogCapture()
            try await withUDPService(servers: [backend.address], log: log) { _, _ throws(IOError) in
                throw IOError.syscall(call: "connect", errno: ENETUNREACH)
            } _: { service, _ in
                let client = try UDPTestClient(service.address)
                defer { client.close() }
                try await client.socket.send(Array("query".utf8))
                try await eventually("drop counted") { service.dropped("no_backend") == 1 }
                #expect(service.dropped("local_resources") == 0)
            }
        }
    }

    /// The drops a throttled second swallowed are reported once it is over, and the listener serves
    /// again as soon as descriptors are back.
    @Test func suppressedShortageDropsAreReportedAndTheListenerRecovers() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            let log = LogCapture()
            let short = Gate()
            try await withUDPService(servers: [backend.address], log: log) { server, loop throws(IOError) in
                if !short.isOpen { throw IOError.syscall(call: "socket", errno: EMFILE) }
                return try UDPSocket.connect(to: server, on: loop)
            } _: { service, _ in
                let client = try UDPTestClient(service.address)
                defer { client.close() }
                for index in 0..<4 { try await client.socket.send(Array("query \(index)".utf8)) }
                try await eventually("four drops counted") { service.dropped("local_resources") == 4 }
                try await eventually("the three unlogged drops reported") {
                    log.lines.contains { $0.contains("more datagrams dropped") && $0.contains("suppressed=3") }
                }
                #expect(log.lines.filter { $0.contains("datagram dropped: relayd is out of") }.count == 1)
                short.open()
                let reply = try await withTimeout { try await client.roundTrip(Array("back".utf8)) }
                #expect(reply == Array("back".utf8))
                #expect(service.dropped("local_resources") == 4)
            }
        }
    }

    /// The real thing: relayd in a child process with a tiny open-files limit, more new clients than it
    /// has descriptors for. The drops show in the metrics as `local_resources`, with one warning naming
    /// the limit to raise, and the server keeps a clean record.
    @Test func realDescriptorShortageInAChildProcessShowsAsLocalResources() async throws {
        try await withTestServer(UDPEchoBackend()) { backend in
            let path = try temporaryFile("""
                { listeners: [ { name: "dns", protocol: "udp", listen: "\(try freeUDPAddress())", backend: "app", idle_timeout: "1s" } ],
                  backends: { app: { servers: ["\(backend.address)"],
                                     probe: { kind: "udp", interval: "10m", timeout: "300ms" } } },
                  metrics: { listen: "127.0.0.1:0" }, io: { loops: 1 }, log: { level: "info" } }
                """)
            defer { try? FileManager.default.removeItem(atPath: path) }
            try await withRelayd(["serve", "-c", path], openFilesLimit: 48) { child in
                let front = try SocketAddress(parsing: try await child.listenerAddress("dns"))
                let ready = try await child.waitForOutput { $0.contains("msg=\"metrics ready\"") }
                let metricsLine = try #require(ready.split(separator: "\n").first { $0.contains("msg=\"metrics ready\"") })
                let metricsField = try #require(metricsLine.split(separator: " ").first { $0.hasPrefix("address=") })
                let metrics = try SocketAddress(parsing: String(metricsField.dropFirst("address=".count)))

                let clientCount = 80
                var clients: [UDPSocket] = []
                defer { for client in clients { client.close() } }
                for index in 0..<clientCount {
                    let client = try UDPSocket.connect(to: front, on: clientLoops.next())
                    clients.append(client)
                    try await client.send(Array("query \(index)".utf8))
                }
                let output = try await child.waitForOutput { $0.contains("datagram dropped: relayd is out of") }
                let warning = try #require(output.split(separator: "\n").first { $0.contains("datagram dropped: relayd is out of") })
                #expect(warning.contains("resource=file_descriptors"))
                #expect(warning.contains("hint=\"\(LocalResource.fileDescriptors.hint)\""))
                // Out of descriptors for flows, relayd still keeps some free under its limit: at the limit the
                // runtime's own thread pool (libdispatch) cannot open /proc and aborts the process.
                let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd")
                #expect(open.count <= 48 - 4, "\(open.count) descriptors open under a limit of 48")

                // Idle flows expire after 1s, which gives relayd descriptors back for the scrape.
                for client in clients { client.close() }
                clients.removeAll()
                var scraped: TestHTTPResponse?
                try await eventually("a scrape once relayd has descriptors again", poll: .milliseconds(200)) {
                    scraped = try? await http(metrics, "/metrics")
                    return scraped?.status == 200
                }
                let exposition = try PrometheusExposition(parsing: try #require(scraped).text)
                func dropped(_ reason: String) -> Double? {
                    exposition.value("relayd_udp_dropped_datagrams_total", ["listener": "dns", "reason": reason])
                }
                let shortage = try #require(dropped("local_resources"))
                let opened = try #require(exposition.value("relayd_udp_flows_total", ["listener": "dns"]))
                #expect(shortage > 0)
                #expect(opened > 0)
                #expect(opened + shortage == Double(clientCount), "every datagram either opened a flow or was counted")
                #expect(dropped("no_backend") == 0)
                #expect(exposition.value("relayd_backend_consecutive_failures",
                                         ["backend": "app", "server": backend.address.description]) == 0)
                child.signal(SIGTERM)
                #expect(try await child.waitForExit() == 0)
            }
        }
    }
}
