import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

/// How a test backend's side of a connection ended.
private final class EndingBox: Sendable {
    private let endings = SanitizerVisibleMutex<[RelayEnding]>([])
    func append(_ ending: RelayEnding) { endings.withLock { $0.append(ending) } }
    var all: [RelayEnding] { endings.withLock { $0 } }
}

/// Idle and first-byte timeouts of relayed TCP connections, through a real relay.
@Suite struct TCPTimeoutTests {
    /// Runs `body` with an echo backend that records how each connection ended on its side, stopped afterwards.
    private func withRecordingEcho(_ body: (TestBackend, EndingBox) async throws -> Void) async throws {
        let endings = EndingBox()
        try await withTestServer(TestBackend { connection in
            let (_, ending) = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
            endings.append(ending)
        }) { backend in
            try await body(backend, endings)
        }
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
        let path = temporaryPath("relayd-idle", suffix: ".log")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRecordingEcho { backend, endings in
            // A second: time enough for the client to send its ping on a loaded machine.
            try await withRelay(config(backend, listener: #"idle_timeout: "1s""#, accessLog: path)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    // Read before sending: the relay's last activity (passing the echo back) comes after this.
                    let beforeLastActivity = ContinuousClock.now
                    try await client.send("ping")
                    #expect(try await client.read(exactly: 4) == Array("ping".utf8))
                    // An orderly end of stream (a reset would throw here), no sooner than the timeout.
                    #expect(try await client.readToEnd() == [])
                    #expect(ContinuousClock.now - beforeLastActivity >= .seconds(1))
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
        }
    }

    /// What one attempt at keeping a connection busy saw.
    private struct KeepAlive {
        /// Bytes echoed.
        var rounds = 0
        /// The longest span from sending one byte to the echo of the next (or to the failure): the relay's idle
        /// time between them can have been no longer.
        var longestSpan = Duration.zero
        /// How the connection failed, if it did.
        var failure: (any Error)?
    }

    /// Sends a byte every `pace` for `duration` and reads each echo.
    private static func keepAlive(_ front: SocketAddress, pace: Duration, for duration: Duration) async throws -> KeepAlive {
        var seen = KeepAlive()
        let client = try await TestClient.connect(front)
        defer { client.close() }
        let start = ContinuousClock.now
        var previousSend: ContinuousClock.Instant?
        while ContinuousClock.now - start < duration {
            let sent = ContinuousClock.now
            do {
                try await client.send([UInt8(seen.rounds & 0xFF)])
                guard try await client.read(exactly: 1) == [UInt8(seen.rounds & 0xFF)] else {
                    throw TestFailure("the echo did not come back")
                }
            } catch {
                seen.failure = error
            }
            if let previousSend { seen.longestSpan = max(seen.longestSpan, ContinuousClock.now - previousSend) }
            if seen.failure != nil { break }
            previousSend = sent
            seen.rounds += 1
            // The pace of the traffic is the behaviour under test.
            try await Task.sleep(for: pace)
        }
        return seen
    }

    /// A byte every quarter of the time-out keeps a connection open through three time-outs. A pause of the machine
    /// longer than the time-out between two bytes makes the relay rightly close it: such an attempt proves nothing
    /// either way, and is made again (three attempts at most).
    @Test func connectionWithAByteEveryQuarterOfTheTimeout_outlivesThreeTimeouts() async throws {
        let timeout = Duration.seconds(2)
        try await withRecordingEcho { backend, _ in
            try await withRelay(config(backend, listener: #"idle_timeout: "2s""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                let front = try relay.address("front")
                var attempts: [KeepAlive] = []
                while attempts.count < 3, attempts.allSatisfy({ $0.longestSpan >= timeout }) {
                    let idleBefore = tcp.stats.ended(.idle).value
                    let attempt = try await withTimeout(.seconds(60)) {
                        try await Self.keepAlive(front, pace: .milliseconds(500), for: .milliseconds(6200))
                    }
                    attempts.append(attempt)
                    guard attempt.longestSpan < timeout else { continue }
                    #expect(attempt.failure == nil, "closed after \(attempt.rounds) bytes, never idle for the time-out")
                    // More than three time-outs went by, with a byte in each.
                    #expect(attempt.rounds >= 4)
                    #expect(tcp.stats.ended(.idle).value == idleBefore)
                }
                #expect(attempts.contains { $0.longestSpan < timeout },
                        "every attempt had a pause longer than the time-out: \(attempts.map(\.longestSpan))")
            }
        }
    }

    @Test func silentClientIsClosedAfterFirstByteTimeout() async throws {
        try await withRecordingEcho { backend, endings in
            try await withRelay(config(backend, listener: #"idle_timeout: 0, first_byte_timeout: "300ms""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout {
                    // Read before connecting: the relay's timer starts when it accepts, after this.
                    let beforeAccept = ContinuousClock.now
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    #expect(try await client.readToEnd() == [])
                    #expect(ContinuousClock.now - beforeAccept >= .milliseconds(300))
                }
                try await eventually("one first-byte time-out counted") { tcp.stats.ended(.clientTimeout).value == 1 }
                try await eventually("the backend's side ended with end of stream (\(endings.all))") {
                    endings.all == [.endOfStream]
                }
            }
        }
    }

    /// The first byte must come within the first-byte timeout of the accept; two seconds are far more than a
    /// loaded machine needs between connecting and sending.
    @Test func clientThatSpokeIsNotCutByFirstByteTimeout_andIdleZeroNeverCloses() async throws {
        try await withRecordingEcho { backend, _ in
            try await withRelay(config(backend, listener: #"idle_timeout: "0s", first_byte_timeout: "2s""#)) { relay in
                let tcp = try #require(relay.server.tcpListeners["front"])
                try await withTimeout {
                    let client = try await TestClient.connect(try relay.address("front"))
                    defer { client.close() }
                    try await client.send("a")
                    #expect(try await client.read(exactly: 1) == Array("a".utf8))
                    // Silence longer than the first-byte timeout is the behaviour under test.
                    try await Task.sleep(for: .milliseconds(2500))
                    try await client.send("b")
                    #expect(try await client.read(exactly: 1) == Array("b".utf8))
                }
                #expect(tcp.stats.ended(.clientTimeout).value == 0)
                #expect(tcp.stats.ended(.idle).value == 0)
            }
        }
    }

    @Test func reloadGivesNewTimeoutsToNewConnectionsOnly() async throws {
        try await withRecordingEcho { backend, _ in
            let config = self.config(backend, listener: "idle_timeout: 0")
            // Two seconds: time enough for the new client to send its byte on a loaded machine.
            let shorter = self.config(backend, listener: #"idle_timeout: "2s""#)
            try await withReloadableRelay(config) { relay, path in
                let front = try relay.address("front")
                let old = try await TestClient.connect(front)
                defer { old.close() }
                try await old.send("o")
                #expect(try await old.read(exactly: 1) == Array("o".utf8))
                try shorter.write(toFile: path, atomically: true, encoding: .utf8)
                #expect(await relay.server.reload().applied)
                let tcp = try #require(relay.server.tcpListeners["front"])
                #expect(tcp.timeouts.idle == .seconds(2))
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
        }
    }

    @Test func refusalsAreLogged_atMostTenASecondPerReason_withTheRestCounted() async throws {
        let path = temporaryPath("relayd-refusals", suffix: ".log")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRecordingEcho { backend, _ in
            try await withRelay(config(backend, listener: "max_connections: 1", accessLog: path)) { relay in
                let front = try relay.address("front")
                let tcp = try #require(relay.server.tcpListeners["front"])
                let flood = 50
                let started = ContinuousClock.now
                try await withTimeout {
                    let held = try await TestClient.connect(front)
                    defer { held.close() }
                    try await held.send("h")
                    _ = try await held.read(exactly: 1)
                    for _ in 0..<flood {
                        let refused = try await TestClient.connect(front)
                        _ = try? await refused.readToEnd()
                        refused.close()
                    }
                }
                // The one-second windows the flood touched (one more than the whole seconds it lasted): on a loaded
                // machine it may spread over more than one.
                let windows = Int((ContinuousClock.now - started).components.seconds) + 2
                #expect(tcp.tracker.refusedOverLimit.load(ordering: .relaxed) == flood)
                // The flood is over: within about a second of each window's end the sweep writes how many lines
                // it left out. Wait until every refusal is either a line or counted in one.
                var refusals: [Substring] = []
                var summaries: [Substring] = []
                var counted = 0
                try await eventually("every refusal logged or counted (\(refusals.count) + \(counted))") {
                    relay.server.accessLog?.flushNow()
                    let lines = ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n")
                    refusals = lines.filter { $0.contains("msg=access ") && $0.contains("end=max_connections") }
                    summaries = lines.filter { $0.contains("access lines suppressed") }
                    counted = summaries.compactMap { line in
                        line.split(separator: " ").first { $0.hasPrefix("suppressed=") }.flatMap { Int($0.dropFirst(11)) }
                    }.reduce(0, +)
                    return refusals.count + counted >= flood
                }
                // Ten lines a window at most, the rest counted.
                #expect(refusals.count >= 10 && refusals.count <= 10 * windows, "\(refusals.count) lines, \(windows) windows")
                #expect(refusals.count + counted == flood)
                #expect(summaries.allSatisfy { $0.contains("end=max_connections") && $0.contains("listener=front") })
            }
        }
    }
}
