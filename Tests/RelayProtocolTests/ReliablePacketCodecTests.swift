import Testing
import TestSupport
@testable import RelayProtocol

/// The wire format: every packet type survives a round trip, every field lands at the offset
/// docs/reliable-udp.md gives, and every truncation, stray byte or out-of-range field is a typed error.
@Suite(.computeBound) struct ReliablePacketCodecTests {
    typealias F = ReliableFixtures

    static let nonce = (0..<32).map { UInt8($0 &* 3 &+ 1) }
    static let mac = (0..<32).map { UInt8(0xA0 &+ $0) }
    static let cookie = ReliableCookie(epoch: 0x0102_0304, mac: mac)
    static let header = ReliableHeader(
        type: .data, ackDelayMicroseconds: 0x0A0B, sessionID: 0x1112_1314_1516_1718, packetNumber: 0x2122_2324,
        messageSequence: 0x3132_3334, ack: 0x4142_4344, ackBitfield: 0x5152_5354, receiveLimit: 0x6162_6364,
        timestamp: 0x7172_7374_7576_7778)

    /// One packet of every type.
    static let samples: [ReliablePacket] = [
        .hello(ReliableHello(clientNonce: nonce, clientID: "alice")),
        .challenge(ReliableChallenge(echo: Array(nonce.prefix(16)), serverNonce: mac, cookie: cookie)),
        .response(ReliableResponse(clientNonce: nonce, clientID: "bob.example-1@x_y", cookie: cookie, proof: mac)),
        .welcome(ReliableWelcome(echo: Array(nonce.prefix(16)), sessionID: 42,
                                 parameters: .init(encrypted: false, maxPacketSize: 1400, idleTimeoutMilliseconds: 9000),
                                 proof: mac)),
        .refused(ReliableRefused(echo: Array(nonce.prefix(16)), reason: .rateLimited, retryAfterSeconds: 30)),
        .session(header, protected: [1, 0, 3, 0] + Array(repeating: 0xEE, count: 100) + Array(repeating: 0xAB, count: 16)),
        .session(ReliableHeader(type: .ack, sessionID: 9, packetNumber: 1, ack: 5, ackBitfield: 3),
                 protected: Array(repeating: 0xAB, count: 16)),
        .session(ReliableHeader(type: .ping, sessionID: 9, packetNumber: 2), protected: Array(repeating: 1, count: 16)),
        .session(ReliableHeader(type: .pong, sessionID: 9, packetNumber: 3), protected: Array(repeating: 2, count: 16)),
        .session(ReliableHeader(type: .close, sessionID: 9, packetNumber: 4), protected: [6] + Array(repeating: 3, count: 16)),
    ]

    @Test(arguments: samples)
    func everyPacketTypeRoundTrips(packet: ReliablePacket) throws {
        let bytes = packet.encode()
        #expect(try ReliablePacket.decode(bytes) == packet)
        #expect(Array(bytes.prefix(6)) == ReliableWire.magic + [1, packet.type.rawValue])
    }

    @Test(arguments: samples)
    func everyTruncationIsATypedErrorOrFailsItsTag(packet: ReliablePacket) {
        let bytes = packet.encode()
        for length in 0..<bytes.count {
            let prefix = Array(bytes.prefix(length))
            switch Result(catching: { () throws(ReliablePacketError) in try ReliablePacket.decode(prefix) }) {
            case .failure:
                continue
            case .success(let decoded):
                // A DATA packet cut short still has a header and a tag's worth of bytes; only the tag tells
                // (`ReliableSessionTests` checks the session refuses it). Nothing else decodes when cut.
                guard case .session(let header, let protected) = decoded, header.type == .data else {
                    Issue.record("\(packet.type) cut to \(length) bytes decoded as \(decoded)")
                    continue
                }
                #expect(length >= ReliableWire.sessionOverhead + ReliableWire.fragmentHeaderSize)
                #expect(protected.count == length - ReliableWire.headerSize)
            }
        }
    }

    @Test func headerFieldsSitAtTheDocumentedOffsets() {
        let bytes = Self.header.encode()
        #expect(bytes.count == 44)
        #expect(bytes == [0x52, 0x4C, 0x59, 0x55, 1, 16, 0x0A, 0x0B,
                          0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
                          0x21, 0x22, 0x23, 0x24, 0x31, 0x32, 0x33, 0x34,
                          0x41, 0x42, 0x43, 0x44, 0x51, 0x52, 0x53, 0x54,
                          0x61, 0x62, 0x63, 0x64, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78])
    }

    @Test func handshakePacketsHaveTheDocumentedSizes() {
        #expect(ReliableHello(clientNonce: Self.nonce, clientID: "a").encode().count == 128)
        #expect(ReliableHello(clientNonce: Self.nonce, clientID: "a").encode(paddedSize: 1200).count == 1200)
        #expect(ReliableHello(clientNonce: Self.nonce, clientID: "a").encode(paddedSize: 20).count == 128)
        #expect(Self.samples[1].encode().count == 90)
        #expect(ReliableResponse(clientNonce: Self.nonce, clientID: "a", cookie: Self.cookie, proof: Self.mac)
            .encode().count == 108)
        #expect(Self.samples[3].encode().count == 69)
        #expect(Self.samples[4].encode().count == 26)
        #expect(ReliableWire.challengeSize == 90 && ReliableWire.welcomeSize == 69 && ReliableWire.refusedSize == 26)
    }

    @Test func helloPaddingIsIgnoredAndAnyLongerHelloDecodes() throws {
        var bytes = ReliableHello(clientNonce: Self.nonce, clientID: "alice").encode(paddedSize: 1200)
        bytes[1000] = 0xFF
        #expect(try ReliablePacket.decode(bytes) == Self.samples[0])
    }

    static let rejections: [(String, [UInt8], ReliablePacketError)] = {
        var cases: [(String, [UInt8], ReliablePacketError)] = []
        let hello = samples[0].encode()
        let welcome = samples[3].encode()
        let refused = samples[4].encode()
        let data = samples[5].encode()
        let ack = samples[6].encode()
        func with(_ bytes: [UInt8], _ index: Int, _ value: UInt8) -> [UInt8] {
            var copy = bytes
            copy[index] = value
            return copy
        }
        cases.append(("empty", [], .truncated(nil, needed: 6, got: 0)))
        cases.append(("three bytes of magic", [0x52, 0x4C, 0x59], .truncated(nil, needed: 6, got: 3)))
        cases.append(("bad magic", with(hello, 0, 0x53), .badMagic))
        cases.append(("bad magic, short", [0, 0, 0, 0, 1], .badMagic))
        cases.append(("version 2 HELLO", with(hello, 4, 2), .unsupportedVersion(2)))
        cases.append(("version 0 DATA", with(data, 4, 0), .unsupportedVersion(0)))
        cases.append(("type 0", with(hello, 5, 0), .unknownType(0)))
        cases.append(("type 6", with(hello, 5, 6), .unknownType(6)))
        cases.append(("type 21", with(ack, 5, 21), .unknownType(21)))
        cases.append(("HELLO id length 0", with(hello, 38, 0), .invalidField(.hello, "client id")))
        cases.append(("HELLO id length 65", with(hello, 38, 65), .invalidField(.hello, "client id")))
        cases.append(("HELLO id with a space", with(hello, 39, 0x20), .invalidField(.hello, "client id")))
        cases.append(("HELLO id with a non-ASCII byte", with(hello, 40, 0xC3), .invalidField(.hello, "client id")))
        cases.append(("CHALLENGE with a byte extra", samples[1].encode() + [0], .oversized(.challenge, limit: 90, got: 91)))
        cases.append(("RESPONSE id length past the end", with(samples[2].encode(), 38, 200),
                      .truncated(.response, needed: 307, got: 124)))
        cases.append(("RESPONSE with a byte extra", samples[2].encode() + [0], .oversized(.response, limit: 124, got: 125)))
        cases.append(("WELCOME session id 0", Array(welcome[..<22]) + Array(repeating: 0, count: 8) + Array(welcome[30...]),
                      .invalidField(.welcome, "session id")))
        cases.append(("WELCOME unknown flag", with(welcome, 30, 2), .invalidField(.welcome, "parameters")))
        cases.append(("WELCOME packet size 127", with(with(welcome, 31, 0), 32, 127), .invalidField(.welcome, "parameters")))
        cases.append(("WELCOME packet size 65,535", with(with(welcome, 31, 0xFF), 32, 0xFF),
                      .invalidField(.welcome, "parameters")))
        cases.append(("WELCOME idle timeout 0", Array(welcome[..<33]) + [0, 0, 0, 0] + Array(welcome[37...]),
                      .invalidField(.welcome, "parameters")))
        cases.append(("REFUSED reason 0", with(refused, 22, 0), .invalidField(.refused, "reason")))
        cases.append(("REFUSED reason 6", with(refused, 22, 6), .invalidField(.refused, "reason")))
        cases.append(("session id 0", Array(ack[..<8]) + Array(repeating: 0, count: 8) + Array(ack[16...]),
                      .invalidField(.ack, "session id")))
        cases.append(("packet number 0", Array(ack[..<16]) + [0, 0, 0, 0] + Array(ack[20...]),
                      .invalidField(.ack, "packet number")))
        cases.append(("ACK with a message sequence", with(ack, 23, 1), .invalidField(.ack, "message sequence")))
        cases.append(("DATA without a message sequence", Array(data[..<20]) + [0, 0, 0, 0] + Array(data[24...]),
                      .invalidField(.data, "message sequence")))
        cases.append(("bitfield without an ack", Array(ack[..<24]) + [0, 0, 0, 0] + Array(ack[28...]),
                      .invalidField(.ack, "ack bitfield")))
        cases.append(("ACK with a payload byte", ack + [0], .oversized(.ack, limit: 60, got: 61)))
        cases.append(("CLOSE without its reason", Array(samples[9].encode().dropLast(17)) + Array(repeating: 3, count: 16),
                      .truncated(.close, needed: 61, got: 60)))
        cases.append(("DATA without a fragment header", Array(data[..<44]) + Array(repeating: 0xAB, count: 19),
                      .truncated(.data, needed: 64, got: 63)))
        cases.append(("over 65,507 bytes", ReliableWire.magic + [1, 16] + Array(repeating: 1, count: 65_502),
                      .oversized(nil, limit: 65_507, got: 65_508)))
        return cases
    }()

    @Test(arguments: rejections)
    func malformedPacketsAreTypedErrors(name: String, bytes: [UInt8], expected: ReliablePacketError) {
        #expect(throws: expected, "\(name)") { try ReliablePacket.decode(bytes) }
    }

    @Test func aRefusedOfAnyVersionIsRead() throws {
        var bytes = Self.samples[4].encode()
        bytes[4] = 7
        guard case .refused(let refused) = try ReliablePacket.decode(bytes) else {
            Issue.record("not read as REFUSED")
            return
        }
        #expect(refused.reason == .rateLimited && refused.retryAfterSeconds == 30)
    }

    static let frames: [ReliableFrame] = [
        .data(index: 0, count: 1, bytes: []),
        .data(index: 2, count: 3, bytes: [1, 2, 3]),
        .data(index: 1023, count: 1024, bytes: [9]),
        .ack, .ping, .pong, .close(.idleTimeout), .close(.packetNumbersExhausted),
    ]

    @Test(arguments: frames)
    func framesRoundTrip(frame: ReliableFrame) throws {
        #expect(try ReliableFrame.decode(type: frame.type, payload: frame.encode()) == frame)
    }

    @Test(arguments: [
        (ReliablePacketType.data, [UInt8]([0, 0, 0])),
        (.data, [0, 1, 0, 1, 7]),
        (.data, [0, 0, 0, 0, 7]),
        (.data, [0, 0, 0x04, 0x01, 7]),
        (.data, [0, 0, 0, 2]),
        (.ack, [0]),
        (.ping, [1, 2]),
        (.close, []),
        (.close, [0, 0]),
        (.hello, []),
    ])
    func badFramesAreTypedErrors(type: ReliablePacketType, payload: [UInt8]) {
        #expect(throws: ReliablePacketError.self) { try ReliableFrame.decode(type: type, payload: payload) }
    }

    @Test func anUnknownCloseReasonStillCloses() throws {
        #expect(try ReliableFrame.decode(type: .close, payload: [200]) == .close(.unknown))
    }

    @Test(.computeBound) func randomBytesNeverTrapTheDecoder() {
        var random = HTTPFuzzRandom(seed: 0xC0DEC)
        let seeds = Self.samples.map { $0.encode() }
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.below(200)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if round % 4 == 0 { bytes = ReliableWire.magic + [1] + bytes }
            } else {
                bytes = seeds[random.below(seeds.count)]
                for _ in 0..<(1 + random.below(4)) where !bytes.isEmpty {
                    bytes[random.below(bytes.count)] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            if let packet = try? ReliablePacket.decode(bytes) {
                // What decodes encodes back to the same bytes (HELLO: up to its padding; REFUSED: but for the
                // version byte, which it is read whatever).
                var again = packet.encode()
                if case .hello = packet {
                    #expect(Array(bytes.prefix(39)) == Array(again.prefix(39)))
                } else {
                    if case .refused = packet { again[4] = bytes[4] }
                    #expect(again == bytes)
                }
            }
        }
    }

    @Test func noncesDifferByDirectionAndPacketNumber() {
        let a = ReliableDirection.clientToServer.nonce(packetNumber: 1)
        #expect(a == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(ReliableDirection.serverToClient.nonce(packetNumber: 1) == [0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1])
        #expect(ReliableDirection.clientToServer.nonce(packetNumber: 0xFFFF_FFFF).suffix(4) == [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(Set((1...1000).map { ReliableDirection.clientToServer.nonce(packetNumber: $0) }).count == 1000)
    }

    @Test func protectionSealsThePayloadAndBindsTheHeader() {
        let seal = ReliablePacketProtection(key: F.key(1), encrypted: true, direction: .clientToServer,
                                            cryptography: F.cryptography)
        let plain = Self.header.encode() + [0, 0, 0, 1] + Array("secret payload".utf8) + Array(repeating: 0, count: 16)
        var packet = plain
        seal.protect(&packet, packetNumber: 7)
        #expect(packet.prefix(44) == plain.prefix(44))
        #expect(packet[44..<(plain.count - 16)] != plain[44..<(plain.count - 16)])
        var opened = packet
        #expect(seal.unprotect(&opened, packetNumber: 7))
        #expect(opened.prefix(plain.count - 16) == plain.prefix(plain.count - 16))
        // Another packet number, another direction, a changed header byte: the tag fails and nothing changes.
        var wrongNumber = packet
        #expect(!seal.unprotect(&wrongNumber, packetNumber: 8) && wrongNumber == packet)
        let other = ReliablePacketProtection(key: F.key(1), encrypted: true, direction: .serverToClient,
                                             cryptography: F.cryptography)
        var wrongDirection = packet
        #expect(!other.unprotect(&wrongDirection, packetNumber: 7))
        var changedHeader = packet
        changedHeader[30] ^= 1
        #expect(!seal.unprotect(&changedHeader, packetNumber: 7))
    }

    @Test func unencryptedProtectionLeavesThePayloadReadableButAuthenticated() {
        let sign = ReliablePacketProtection(key: F.key(1), encrypted: false, direction: .serverToClient,
                                            cryptography: F.cryptography)
        let plain = Self.header.encode() + [0, 0, 0, 1] + Array("visible".utf8) + Array(repeating: 0, count: 16)
        var packet = plain
        sign.protect(&packet, packetNumber: 3)
        #expect(packet.prefix(plain.count - 16) == plain.prefix(plain.count - 16))
        var copy = packet
        #expect(sign.unprotect(&copy, packetNumber: 3))
        copy[50] ^= 0x20
        #expect(!sign.unprotect(&copy, packetNumber: 3))
    }
}
