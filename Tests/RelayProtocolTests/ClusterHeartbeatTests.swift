import Testing
@testable import RelayProtocol

/// The static cluster's heartbeat: what round-trips, and a typed refusal for everything else.
@Suite struct ClusterHeartbeatTests {
    static let key = Array(repeating: UInt8(0x42), count: 32)
    let mac = HMACSHA256(key: ClusterHeartbeatTests.key)

    static let sample = ClusterHeartbeat(
        nodeID: "n1", stamp: 1_733_000_000_000_001, term: 7, leader: "n1", claimsLeadership: true, ready: true,
        scores: [
            ClusterGroupScores(group: "web", servers: [
                ClusterServerScore(address: "127.0.0.1:9001", healthy: true, measured: true, total: 88.5, latency: 40,
                                   jitter: 12.5, success: 36, penalty: 0, bonus: 0, latencyMs: 3.25, jitterMs: 0.5,
                                   successRate: 0.9, consecutiveFailures: 0, consecutiveSuccesses: 12, probes: 14),
                ClusterServerScore(address: "[::1]:9002", healthy: false, measured: true, total: 0, penalty: 14.58,
                                   successRate: 0.2, consecutiveFailures: 3, probes: 3,
                                   downReason: "3 consecutive failures", lastError: "connection refused"),
            ]),
            ClusterGroupScores(group: "empty", servers: []),
        ])

    @Test func roundTripsWithScores() throws {
        let bytes = try Self.sample.encoded(mac: mac)
        #expect(try ClusterHeartbeat.decode(bytes, mac: mac) == Self.sample)
    }

    @Test func roundTripsAFollowersHeartbeat() throws {
        let beat = ClusterHeartbeat(nodeID: "node-3.eu", stamp: 5, term: 0, leader: nil, claimsLeadership: false,
                                    ready: false)
        let bytes = try beat.encoded(mac: mac)
        #expect(bytes.count == ClusterHeartbeat.minimumSize + "node-3.eu".utf8.count)
        #expect(try ClusterHeartbeat.decode(bytes, mac: mac) == beat)
    }

    @Test func anotherKeyOrAnyFlippedBitIsRefused() throws {
        let bytes = try Self.sample.encoded(mac: mac)
        let other = HMACSHA256(key: Array(repeating: UInt8(0x43), count: 32))
        #expect(throws: ClusterHeartbeatError.badTag) { try ClusterHeartbeat.decode(bytes, mac: other) }
        for index in stride(from: 5, to: bytes.count, by: 7) {
            var altered = bytes
            altered[index] ^= 0x10
            #expect(throws: ClusterHeartbeatError.badTag) { try ClusterHeartbeat.decode(altered, mac: mac) }
        }
    }

    @Test func shortForeignAndOversizedDatagramsAreRefusedBeforeTheTag() throws {
        let bytes = try Self.sample.encoded(mac: mac)
        #expect(throws: ClusterHeartbeatError.tooShort) { try ClusterHeartbeat.decode(Array(bytes.prefix(20)), mac: mac) }
        var foreign = bytes
        foreign[0] = UInt8(ascii: "X")
        #expect(throws: ClusterHeartbeatError.badMagic) { try ClusterHeartbeat.decode(foreign, mac: mac) }
        var future = bytes
        future[4] = 9
        #expect(throws: ClusterHeartbeatError.unsupportedVersion(9)) { try ClusterHeartbeat.decode(future, mac: mac) }
        #expect(throws: ClusterHeartbeatError.tooLarge) {
            try ClusterHeartbeat.decode([UInt8](repeating: 0, count: ClusterHeartbeat.maximumSize + 1), mac: mac)
        }
    }

    /// Authenticated but malformed bodies (a peer with the key and a bug): a typed error, never a trap.
    @Test func authenticatedGarbageIsMalformed() throws {
        let bytes = try Self.sample.encoded(mac: mac)
        let body = Array(bytes.dropLast(HMACSHA256.byteCount))
        for cut in [6, 8, 12, 30, body.count - 1] {
            let truncated = Array(body.prefix(cut))
            let sealed = truncated + mac.authenticationCode(for: truncated)
            guard sealed.count >= ClusterHeartbeat.minimumSize else { continue }
            #expect(throws: (any Error).self) { try ClusterHeartbeat.decode(sealed, mac: mac) }
        }
        let trailing = body + [0]
        #expect(throws: ClusterHeartbeatError.malformed("1 bytes after the last field")) {
            try ClusterHeartbeat.decode(trailing + mac.authenticationCode(for: trailing), mac: mac)
        }
    }

    @Test func scoresThatDoNotFitADatagramAreRefusedOnEncode() {
        let servers = (0..<2000).map { ClusterServerScore(address: "10.0.\($0 / 256).\($0 % 256):80", healthy: true,
                                                            measured: true) }
        let beat = ClusterHeartbeat(nodeID: "n1", stamp: 1, term: 1, leader: "n1", claimsLeadership: true,
                                    scores: [ClusterGroupScores(group: "big", servers: servers)])
        #expect(throws: ClusterHeartbeatError.tooLarge) { try beat.encoded(mac: mac) }
    }

    @Test func longTextsAreCutAtACharacterBoundary() throws {
        let long = String(repeating: "é", count: 150)
        var beat = Self.sample
        beat.scores![0].servers[1].lastError = long
        let decoded = try ClusterHeartbeat.decode(try beat.encoded(mac: mac), mac: mac)
        let error = try #require(decoded.scores?[0].servers[1].lastError)
        #expect(error == String(repeating: "é", count: 100))
    }
}
