import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

/// `log.modules`: parts of relayd logging at a level of their own (seed 001's per-module levels).
@Suite struct LogModulesTests {
    @Test func aModuleFollowsTheRootUnlessTheConfigSetsItsLevel() {
        let capture = LogCapture()
        let root = Logger(level: .info, format: .text, sink: .capture(capture))
        root.settings.apply(level: .info, format: .text, modules: ["probing": .debug])
        let probing = root.module("probing")
        let pool = root.module("pool")
        probing.debug("probe detail")
        pool.debug("pool detail")
        #expect(capture.lines.contains { $0.contains("probe detail") })
        #expect(!capture.lines.contains { $0.contains("pool detail") })
        // A reload: the root goes to warn, probing loses its own level, pool follows the root.
        root.settings.apply(level: .warn, format: .json, modules: [:])
        probing.info("probe info after")
        pool.warn("pool warn after")
        #expect(!capture.lines.contains { $0.contains("probe info after") })
        #expect(capture.lines.contains { $0.contains("pool warn after") && $0.hasPrefix("{") })
        // Setting the root's level moves modules without a level of their own.
        root.settings.apply(level: .warn, format: .text, modules: ["pool": .error])
        root.level = .debug
        root.module("probing").debug("probing follows")
        pool.warn("pool keeps error")
        #expect(capture.lines.contains { $0.contains("probing follows") })
        #expect(!capture.lines.contains { $0.contains("pool keeps error") })
    }

    @Test func configNamesModulesAndLevels() throws {
        func parse(_ modules: String) throws(ConfigError) -> [String: Logger.Level] {
            try RelayConfig.parse(#"{ listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], log: { modules: \#(modules) } }"#)
                .log.modules
        }
        #expect(try parse(#"{ probing: "debug", selection: "warn" }"#) == ["probing": .debug, "selection": .warn])
        #expect(throws: ConfigError.self) { try parse(#"{ probeing: "debug" }"#) }
        #expect(throws: ConfigError.self) { try parse(#"{ probing: "loud" }"#) }
    }

    @Test func probingAtDebugWhileTheListenerStaysAtInfo() async throws {
        let dead = try PortReservation(.tcp)
        defer { dead.release() }
        try await withTestServer(TestBackend.echo()) { backend in
            let config = """
                { listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app", max_connections: 1 } ],
                  backends: { app: { servers: ["\(backend.listener.localAddress)", "\(dead.address)"],
                                     probe: { interval: "100ms", timeout: "200ms" } } } }
                """
            try await withRelay(config, level: .info) { relay in
                relay.server.logger.settings.apply(level: .info, format: .text, modules: ["probing": .debug])
                try await eventually("a probe failure at debug") {
                    relay.logs.lines.contains { $0.contains("level=debug") && $0.contains("probe failed") }
                }
                // The listener stays at info: its refusal (over max_connections) is a debug line, not written.
                let held = try await TestClient.connect(try relay.address("web"))
                defer { held.close() }
                try await held.send("a")
                _ = try await withTimeout { try await held.read(exactly: 1) }
                let refused = try await TestClient.connect(try relay.address("web"))
                _ = try? await withTimeout { try await refused.readToEnd() }
                refused.close()
                try await eventually("the refusal counted") {
                    relay.server.tcpListeners["web"]?.refusedCount(.maxConnections) == 1
                }
                // The line would follow the count at once on the accepting thread; leave it time to show.
                try await Task.sleep(for: .milliseconds(200))
                #expect(!relay.logs.lines.contains { $0.contains("connection refused") })
            }
        }
    }
}
