import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The `relayd` binary as users run it: exit codes, messages, signals, and accept back-off.
@Suite struct CommandLineTests {
    @Test func versionPrintsAndExitsZero() async throws {
        let (status, output) = try await runRelayd(["version"])
        #expect(status == 0)
        #expect(output.hasPrefix("relayd "))
    }

    @Test(arguments: [["--help"], ["serve", "--help"], ["check", "--help"], ["version", "--help"], ["help", "serve"]])
    func helpExitsZero(arguments: [String]) async throws {
        let (status, output) = try await runRelayd(arguments)
        #expect(status == 0)
        #expect(output.contains("Usage: relayd"))
    }

    @Test func unknownCommandIsUsageError() async throws {
        let (status, output) = try await runRelayd(["frobnicate"])
        #expect(status == 2)
        #expect(output.contains("unknown command"))
    }

    @Test func checkAcceptsShippedConfiguration() async throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Configurations/relayd.json5").path
        let (status, output) = try await runRelayd(["check", "-c", shipped])
        #expect(status == 0, "\(output)")
        #expect(output.contains("configuration is valid"))
    }

    @Test func checkRejectsBadConfigNamingTheKey() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "a", listen: "127.0.0.1:0", backend: "b", max_conections: 5 } ],
              backends: { b: { servers: ["127.0.0.1:1"], connect_timeout: "soon" } } }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await runRelayd(["check", "-c", path])
        #expect(status == 2)
        #expect(output.contains("listeners[0].max_conections"))
        #expect(output.contains("backends.b.connect_timeout"))
    }

    /// Also when the holder set SO_REUSEPORT, which would otherwise let relayd share the port silently.
    @Test(arguments: [false, true])
    func serveFailsWithExitOneWhenAddressIsTaken(holderReusesPort: Bool) async throws {
        let holder = try TCPListener(bindingTo: try SocketAddress(parsing: "127.0.0.1:0"), on: clientLoops.loops[0],
                                     reusePort: holderReusesPort)
        defer { holder.close() }
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "\(holder.localAddress)" } ] }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await runRelayd(["serve", "-c", path])
        #expect(status == 1)
        #expect(output.contains("listener e on \(holder.localAddress)"))
    }

    @Test func sigtermDrainsAndExitsZero() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], drain_timeout: "10s" }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path]) { child in
            let address = try SocketAddress(parsing: try await child.listenerAddress("e"))
            try await withTimeout {
                let client = try await TestClient.connect(address)
                defer { client.close() }
                try await client.send("one")
                #expect(try await client.read(exactly: 3) == Array("one".utf8))
                child.signal(SIGTERM)
                try await child.waitForOutput { $0.contains("draining") }
                // In flight: still served during the drain.
                try await client.send("two")
                #expect(try await client.read(exactly: 3) == Array("two".utf8))
                client.connection.shutdownWrite()
                _ = try await client.readToEnd()
            }
            #expect(try await child.waitForExit() == 0)
        }
    }

    @Test func sighupReloadsTheConfigFile_andRefusesABadOne() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], drain_timeout: "10s" }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path]) { child in
            let first = try SocketAddress(parsing: try await child.listenerAddress("e"))
            try await withTimeout {
                let client = try await TestClient.connect(first)
                defer { client.close() }
                try """
                    { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" },
                                   { name: "f", protocol: "echo", listen: "127.0.0.1:0" } ], drain_timeout: "10s" }
                    """.write(toFile: path, atomically: true, encoding: .utf8)
                child.signal(SIGHUP)
                let output = try await child.waitForOutput { $0.contains("msg=\"config reloaded\"") && $0.contains("listener=f") }
                let line = try #require(output.split(separator: "\n").first { $0.contains("listener=f") && $0.contains("msg=listening") })
                let field = try #require(line.split(separator: " ").first { $0.hasPrefix("address=") })
                let added = try SocketAddress(parsing: String(field.dropFirst("address=".count)))
                let second = try await TestClient.connect(added)
                try await second.send("new")
                #expect(try await second.read(exactly: 3) == Array("new".utf8))
                second.close()

                try "{ listeners: [ ".write(toFile: path, atomically: true, encoding: .utf8)
                child.signal(SIGHUP)
                try await child.waitForOutput { $0.contains("config reload refused") }
                // The connection opened before both reloads is still served.
                try await client.send("old")
                #expect(try await client.read(exactly: 3) == Array("old".utf8))
            }
            child.signal(SIGTERM)
            #expect(try await child.waitForExit() == 0)
        }
    }

    @Test func secondSignalExitsAtOnce() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], drain_timeout: "1m" }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path]) { child in
            let address = try SocketAddress(parsing: try await child.listenerAddress("e"))
            let client = try await TestClient.connect(address)
            defer { client.close() }
            try await client.send("x")
            #expect(try await client.read(exactly: 1) == Array("x".utf8))
            child.signal(SIGINT)
            try await child.waitForOutput { $0.contains("draining") }
            let started = ContinuousClock.now
            child.signal(SIGINT)
            let status = try await child.waitForExit(timeout: .seconds(30))
            #expect(status == 1)
            #expect(ContinuousClock.now - started < .seconds(30), "the second signal waited out the 1 minute drain")
        }
    }

    /// With a tiny open-files limit, relayd runs out of descriptors: accept must back off (little CPU,
    /// a warning) instead of spinning, and serve again once descriptors are free.
    @Test func acceptBacksOffOnEMFILEAndRecovers() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], io: { loops: 1 },
              log: { level: "info" } }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path], openFilesLimit: 48) { child in
            let address = try SocketAddress(parsing: try await child.listenerAddress("e"))
            var clients: [TestClient] = []
            defer { for client in clients { client.close() } }
            // More connections than relayd has descriptors for: the kernel completes the handshakes (backlog).
            for _ in 0..<80 { clients.append(try await TestClient.connect(address)) }
            try await child.waitForOutput { $0.contains("accept paused") }
            let before = try child.cpuSeconds()
            // A second out of descriptors, whose CPU cost is the behaviour under test.
            try await Task.sleep(for: .seconds(1))
            let spent = try child.cpuSeconds() - before
            #expect(spent < 0.5, "relayd used \(spent)s of CPU in 1s while out of descriptors: it spins")
            // Free the descriptors: relayd must recover and serve a new connection.
            for client in clients { client.close() }
            clients.removeAll()
            try await withTimeout(.seconds(20)) {
                let client = try await TestClient.connect(address)
                defer { client.close() }
                try await client.send("back")
                #expect(try await client.read(exactly: 4) == Array("back".utf8))
            }
            child.signal(SIGTERM)
            #expect(try await child.waitForExit() == 0)
        }
    }
}
