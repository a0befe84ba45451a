import Foundation
import RelayIO
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

/// How a test backend's side of a connection ended.
private final class EndingBox: Sendable {
    private let endings = Mutex<[RelayEnding]>([])
    func append(_ ending: RelayEnding) { endings.withLock { $0.append(ending) } }
    var all: [RelayEnding] { endings.withLock { $0 } }
}

/// Idle and first-byte timeouts of relayed TCP connections, through a real relay.
@Suite(.serialized) struct TCPTimeoutTests {
    /// An echo backend that records how each connection ended on its side.
    private func recordingEcho() throws -> (TestBackend, EndingBox) {
        let endings = EndingBox()
        let backend = try TestBackend { connection in
            let (_, ending) = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
            endings.append(ending)
        }
        return (backend, endings)
    }

    private func config(_ backend: TestBackend, listener: String, accessLog: String? = nil) -> String {
        """
        {
          listeners: [ { name: "front", listen: "127.0.0.1:0", backend: "app", \(listener) } ],
          backends: { app: { servers: ["\(backend.address)"], probe: { initial: { enabled: false } } } },
          log: { level: "debug" \(accessLog.map { ", access_file: \"\($0)\"" } ?? "") },
        }
        """
    }

    @Test func idleConnectionIsClosedAfterIdleTimeout_andBothEndsSeeEndOfStream() async throws {
        let (backend, endings) = try recordingEcho()
        let path = NSTemporaryDirectory() + "relayd-idle-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try await withRelay(config(backend, listener: #"idle_timeout: "400ms""#, accessLog: path)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout(.seconds(10)) {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    try await client.send("ping")
                    #expect(try await client.read(exactly: 4) == Array("ping".utf8))
                    let quiet = ContinuousClock.now
                    // An orderly end of stream (a reset would throw here), no sooner than the timeout.
                    #expect(try await client.readToEnd() == [])
                    #expect(ContinuousClock.now - quiet >= .milliseconds(400))
                }
                try await eventually("the backend's side ended with end of stream (\(endings.all))") {
                    endings.all == [.endOfStream]
                }
                try await eventually("one idle ending counted") { tcp.stats.ended(.idle).value == 1 }
                #expect(tcp.stats.ended(.error).value == 0)
                // The line is recorded right after the counter: wait for it too.
                var log = ""
                try await eventually("the access line with end=idle") {
                    relay.server.accessLog?.flushNow()
                    log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    return log.contains("end=idle")
                }
                #expect(log.contains("bytes_in=4 bytes_out=4"))
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func connectionWithAByteEveryThirdOfTheTimeout_outlivesThreeTimeouts() async throws {
        let (backend, _) = try recordingEcho()
        do {
            try await withRelay(config(backend, listener: #"idle_timeout: "900ms""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout(.seconds(15)) {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    let start = ContinuousClock.now
                    var rounds = 0
                    while ContinuousClock.now - start < .milliseconds(2900) {
                        try await client.send([UInt8(rounds & 0xFF)])
                        #expect(try await client.read(exactly: 1) == [UInt8(rounds & 0xFF)])
                        rounds += 1
                        try await Task.sleep(for: .milliseconds(300))
                    }
                    #expect(rounds >= 5)
                }
                #expect(tcp.stats.ended(.idle).value == 0)
                #expect(tcp.tracker.active == 1 || tcp.tracker.active == 0)
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func silentClientIsClosedAfterFirstByteTimeout() async throws {
        let (backend, endings) = try recordingEcho()
        do {
            try await withRelay(config(backend, listener: #"idle_timeout: 0, first_byte_timeout: "300ms""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout(.seconds(10)) {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    let start = ContinuousClock.now
                    #expect(try await client.readToEnd() == [])
                    #expect(ContinuousClock.now - start >= .milliseconds(300))
                }
                try await eventually("one first-byte time-out counted") { tcp.stats.ended(.clientTimeout).value == 1 }
                try await eventually("the backend's side ended with end of stream (\(endings.all))") {
                    endings.all == [.endOfStream]
                }
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func clientThatSpokeIsNotCutByFirstByteTimeout_andIdleZeroNeverCloses() async throws {
        let (backend, _) = try recordingEcho()
        do {
            try await withRelay(config(backend, listener: #"idle_timeout: "0s", first_byte_timeout: "200ms""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout(.seconds(10)) {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    try await client.send("a")
                    #expect(try await client.read(exactly: 1) == Array("a".utf8))
                    try await Task.sleep(for: .milliseconds(1000))
                    try await client.send("b")
                    #expect(try await client.read(exactly: 1) == Array("b".utf8))
                }
                #expect(tcp.stats.ended(.clientTimeout).value == 0)
                #expect(tcp.stats.ended(.idle).value == 0)
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func reloadGivesNewTimeoutsToNewConnectionsOnly() async throws {
        let (backend, _) = try recordingEcho()
        do {
            try await withReloadableRelay(config(backend, listener: "idle_timeout: 0")) { relay, path in
                let front = try relay.address("front")
                let old = try await TestClient.connect(front)
                defer { old.close() }
                try await old.send("o")
                #expect(try await old.read(exactly: 1) == Array("o".utf8))
                try self.config(backend, listener: #"idle_timeout: "300ms""#).write(toFile: path, atomically: true,
                                                                                      encoding: .utf8)
                #expect(await relay.server.reload().applied)
                let tcp = try #require(relay.server.tcpListeners["front"])
                #expect(tcp.timeouts.idle == .milliseconds(300))
                let new = try await TestClient.connect(front)
                defer { new.close() }
                try await new.send("n")
                #expect(try await new.read(exactly: 1) == Array("n".utf8))
                #expect(try await new.readToEnd() == [])
                // The old connection, idle just as long, is still relayed.
                try await old.send("p")
                #expect(try await old.read(exactly: 1) == Array("p".utf8))
                try await eventually("one idle ending counted") { tcp.stats.ended(.idle).value == 1 }
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }

    @Test func refusalsAreLogged_atMostTenASecondPerReason_withTheRestCounted() async throws {
        let (backend, _) = try recordingEcho()
        let path = NSTemporaryDirectory() + "relayd-refusals-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try await withRelay(config(backend, listener: "max_connections: 1", accessLog: path)) { relay in
                let front = try relay.address("front")
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout(.seconds(10)) {
                    let held = try await TestClient.connect(front)
                    defer { held.close() }
                    try await held.send("h")
                    _ = try await held.read(exactly: 1)
                    for _ in 0..<30 {
                        let refused = try await TestClient.connect(front)
                        _ = try? await refused.readToEnd()
                        refused.close()
                    }
                }
                #expect(tcp.tracker.refusedOverLimit.load(ordering: .relaxed) == 30)
                // The flood is over: within about a second the sweep writes how many lines were left out.
                try await eventually("the line counting the suppressed refusals") {
                    relay.server.accessLog?.flushNow()
                    let log = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                    return log.contains("suppressed=")
                }
                let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
                let refusals = lines.filter { $0.contains("msg=access ") && $0.contains("end=max_connections") }
                let summaries = lines.filter { $0.contains("access lines suppressed") }
                let counted = summaries.compactMap { line in
                    line.split(separator: " ").first { $0.hasPrefix("suppressed=") }.flatMap { Int($0.dropFirst(11)) }
                }.reduce(0, +)
                // All 30 fit in one or two windows: 10 or 20 lines, the rest counted.
                #expect(refusals.count >= 10 && refusals.count <= 20)
                #expect(refusals.count + counted == 30)
                #expect(summaries.allSatisfy { $0.contains("end=max_connections") && $0.contains("listener=front") })
            }
        } catch {
            await backend.stop()
            throw error
        }
        await backend.stop()
    }
}
