import Testing
@testable import RelayProtocol
import TestSupport

/// The frame codec: layout, round trips, and a typed error (never a trap) for every malformed input.
@Suite(.computeBound) struct MultipathFrameTests {
    let keys = MultipathKeys(clientKey: MultipathFixtures.key)

    /// The frame's bytes under the test key.
    func encoded(_ frame: MultipathFrame) throws -> [UInt8] {
        try frame.encode(authenticatingWith: keys)
    }

    func expectError(_ bytes: [UInt8], _ expected: MultipathFrameError, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try MultipathFrame.decode(bytes) }
    }

    // docs/multipath.md shows this frame byte by byte; the tag is HMAC-SHA256 under the HKDF-derived
    // client-to-server key, computed here from the primitives, truncated to 16 bytes.
    @Test func dataFrame_matchesTheDocumentedLayout() throws {
        let frame = MultipathFixtures.samples[0]
        let bytes = try encoded(frame)
        let header: [UInt8] = [0x52, 0x4C, 0x59, 0x4D, 0x01, 0x01, 0x00, 0x00, 0x06]
            + Array("laptop".utf8) + [1, 2, 3, 4, 5, 6, 7, 8] + [0, 0, 0, 1]
        let body: [UInt8] = [0, 0, 0, 7] + Array("ping".utf8)
        #expect(Array(bytes.prefix(header.count + body.count)) == header + body)
        let derived = HKDF.deriveKey(inputKeyMaterial: MultipathFixtures.key, salt: [UInt8](),
                                     info: Array("relayd multipath v1 client to server".utf8), length: 32)
        let tag = HMACSHA256.authenticationCode(key: derived, message: header + body).prefix(16)
        #expect(Array(bytes.suffix(16)) == Array(tag))
        #expect(bytes.count == 51)
        // Checked against openssl (kdf HKDF, then mac HMAC) when this vector was written into the docs.
        #expect(bytes.hex == "524c594d01010000066c6170746f70" + "0102030405060708" + "00000001" + "00000007"
                + "70696e67" + "7c26ca06b359a53626e7dcebba50ccfa")
    }

    // docs/multipath.md's other two vectors, computed with Python's hmac and hashlib from the document alone.
    @Test func heartbeatAndAck_matchTheDocumentedVectors() throws {
        #expect(try encoded(MultipathFixtures.samples[4]).hex
            == "524c594d01020001066c6170746f70000000000000000500000004020100000000075bcd150000501400faffffcfc7"
            + "b03ef19d5d2aaf49396297f8b7f5d8ae")
        #expect(try encoded(MultipathFixtures.samples[7]).hex
            == "524c594d010301ff066c6170746f7000000000000000070000000703000000003ade68b1"
            + "0a60740a2038384671c87e6f6509d162")
    }

    @Test(arguments: MultipathFixtures.samples)
    func everyFrame_roundTripsToTheSameFrameAndBytes(frame: MultipathFrame) throws {
        let bytes = try encoded(frame)
        #expect(bytes.count == frame.encodedSize)
        let decoded = try MultipathFrame.decode(bytes)
        #expect(decoded == frame)
        #expect(try encoded(decoded) == bytes)
        #expect(keys.isAuthentic(bytes, direction: frame.direction))
        #expect(!keys.isAuthentic(bytes, direction: frame.direction.reversed))
    }

    // A fixed-size frame cut anywhere is refused by the decoder itself; a DATA frame cut short can still parse
    // (a shorter payload), which is why the channel's test cuts DATA frames and expects the tag to refuse them.
    @Test(arguments: MultipathFixtures.samples.filter { $0.type != .data })
    func everyTruncationOfAFixedSizeFrame_isRefused(frame: MultipathFrame) throws {
        let bytes = try encoded(frame)
        for length in 0..<bytes.count {
            #expect(throws: MultipathFrameError.self) { try MultipathFrame.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: MultipathFrameError.oversized(limit: bytes.count, got: bytes.count + 1)) {
            try MultipathFrame.decode(bytes + [0])
        }
    }

    @Test func dataFrameCutBeforeItsFlowID_isTruncated() throws {
        let bytes = try encoded(MultipathFixtures.samples[0])
        for length in 0..<(21 + 6 + 4 + 16) {
            #expect(throws: MultipathFrameError.self) { try MultipathFrame.decode(Array(bytes.prefix(length))) }
        }
        expectError(Array(bytes.prefix(4)), .truncated(needed: MultipathWire.minFrameSize, got: 4))
        expectError(Array(bytes.prefix(46)), .truncated(needed: 47, got: 46))
    }

    @Test func headerFieldsOutOfRange_areNamed() throws {
        let good = try encoded(MultipathFixtures.samples[0])
        func with(_ offset: Int, _ value: UInt8) -> [UInt8] {
            var bytes = good
            bytes[offset] = value
            return bytes
        }
        expectError(with(0, 0x53), .badMagic)
        expectError(with(4, 2), .unsupportedVersion(2))
        expectError(with(5, 0), .unknownType(0))
        expectError(with(5, 4), .unknownType(4))
        expectError(with(6, 0b1000), .invalidField("flags"))
        expectError(with(6, 0b110), .invalidField("reply fanout"))
        expectError(with(6, 1), .invalidField("active link"))
        expectError(with(8, 0), .invalidField("client id length"))
        expectError(with(8, 65), .invalidField("client id length"))
        expectError(with(9, UInt8(ascii: " ")), .invalidField("client id"))
        expectError(with(9, 0xC3), .invalidField("client id"))
        var zeroSession = good
        zeroSession.replaceSubrange(15..<23, with: repeatElement(0, count: 8))
        expectError(zeroSession, .invalidField("session"))
        var zeroSequence = good
        zeroSequence.replaceSubrange(23..<27, with: repeatElement(0, count: 4))
        expectError(zeroSequence, .invalidField("sequence"))
        var zeroFlow = good
        zeroFlow.replaceSubrange(27..<31, with: repeatElement(0, count: 4))
        expectError(zeroFlow, .invalidField("flow id"))
        expectError([], .truncated(needed: MultipathWire.minFrameSize, got: 0))
        expectError(Array(repeating: 0, count: 65_508), .oversized(limit: 65_507, got: 65_508))
    }

    @Test func serverToClientFrameWithReplyFieldsOrActiveLink_isRefused() throws {
        let ack = try encoded(MultipathFixtures.samples[7])
        var fanout = ack
        fanout[6] |= 0b10
        expectError(fanout, .invalidField("reply fanout"))
        var active = ack
        active[7] = 0
        expectError(active, .invalidField("active link"))
    }

    @Test func bodyInTheWrongDirection_isRefused() throws {
        var heartbeat = try encoded(MultipathFixtures.samples[4])
        heartbeat[6] = 1
        heartbeat[7] = 0xFF
        expectError(heartbeat, .invalidField("direction"))
        var ack = try encoded(MultipathFixtures.samples[7])
        ack[6] = 0
        expectError(ack, .invalidField("direction"))
    }

    @Test func heartbeatFieldsOutOfRange_areNamed() throws {
        let good = try encoded(MultipathFixtures.samples[4])
        let body = 21 + 6
        var link = good
        link[body] = 0xFF
        expectError(link, .invalidField("link"))
        var health = good
        health[body + 1] = 3
        expectError(health, .invalidField("link health"))
        var loss = good
        loss[body + 14] = 0x27
        loss[body + 15] = 0x11
        expectError(loss, .invalidField("loss"))
        var ackLink = try encoded(MultipathFixtures.samples[7])
        ackLink[body] = 0xFF
        expectError(ackLink, .invalidField("link"))
    }

    @Test func unencodableFrames_throwWithoutWriting() {
        let base = MultipathFixtures.samples[0]
        func expectRefused(_ change: (inout MultipathFrame) -> Void, _ expected: MultipathFrameError,
                           sourceLocation: SourceLocation = #_sourceLocation) {
            var frame = base
            change(&frame)
            #expect(throws: expected, sourceLocation: sourceLocation) { try frame.encode(authenticatingWith: keys) }
        }
        let largest = MultipathWire.maxPayload(clientIDLength: 6)
        expectRefused({ $0.body = .data(flow: 1, payload: Array(repeating: 0, count: largest + 1)) },
                      .oversized(limit: 65_507, got: 65_508))
        expectRefused({ $0.clientID = "" }, .invalidField("client id"))
        expectRefused({ $0.clientID = "has space" }, .invalidField("client id"))
        expectRefused({ $0.session = 0 }, .invalidField("session"))
        expectRefused({ $0.sequence = 0 }, .invalidField("sequence"))
        expectRefused({ $0.body = .data(flow: 0, payload: []) }, .invalidField("flow id"))
        expectRefused({ $0.activeLink = 255 }, .invalidField("active link"))
        expectRefused({ $0.direction = .serverToClient }, .invalidField("active link"))
        expectRefused({ $0.body = .heartbeatAck(MultipathHeartbeatAck(link: 0, echoedTimestamp: 1)) },
                      .invalidField("direction"))
        expectRefused({ $0.body = .heartbeat(MultipathHeartbeat(link: 0, health: .up, timestamp: 1,
                                                                lossBasisPoints: 10_001)) },
                      .invalidField("loss"))
        var largestFits = base
        largestFits.body = .data(flow: 1, payload: Array(repeating: 0, count: largest))
        #expect((try? largestFits.encode(authenticatingWith: keys))?.count == 65_507)
    }

    // A seeded stand-in for the libFuzzer harness (Tools/fuzz/run-multipath): random bytes, and valid frames with
    // random bytes changed, cut or appended. Every input decodes or throws; whatever decodes re-encodes to the
    // same bytes before the tag.
    @Test func randomAndMutatedInput_neverTraps_andDecodedFramesReencodeExactly() throws {
        var random = HTTPFuzzRandom(seed: 0x6D70_7564_70)
        let valid = try MultipathFixtures.samples.map(encoded)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<random.below(80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = random.pick(valid)
                for _ in 0..<(1 + random.below(3)) {
                    switch random.below(3) {
                    case 0 where !bytes.isEmpty: bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes = Array(bytes.prefix(random.below(bytes.count + 1)))
                    default: bytes.append(UInt8(truncatingIfNeeded: random.next()))
                    }
                }
            }
            guard let frame = try? MultipathFrame.decode(bytes) else { continue }
            let again = try frame.encode(authenticatingWith: keys)
            #expect(again.dropLast(16) == bytes.dropLast(16))
        }
    }
}
