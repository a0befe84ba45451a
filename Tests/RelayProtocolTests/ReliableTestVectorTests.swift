import Testing
@testable import RelayProtocol

/// The test vectors docs/reliable-udp.md publishes for client writers, pinned here so the document and the code
/// cannot drift apart. (They were also reproduced from the document alone with Python's hashlib, hmac and the
/// `cryptography` package's ChaCha20Poly1305.)
@Suite struct ReliableTestVectorTests {
    static func bytes(from start: UInt8) -> [UInt8] { (0..<32).map { start + UInt8($0) } }
    static let key = bytes(from: 0x00)
    static let clientNonce = bytes(from: 0x20)
    static let serverNonce = bytes(from: 0x40)
    static let cookie = ReliableCookie(epoch: 7, mac: bytes(from: 0x60))
    static let sessionID: UInt64 = 0x0102_0304_0506_0708
    static let parameters = ReliableSessionParameters(encrypted: true, maxPacketSize: 1200, idleTimeoutMilliseconds: 30_000)
    static let schedule = ReliableKeySchedule(cryptography: ReliableStandardCryptography())

    @Test func handshakeValues() {
        let transcript = Self.schedule.transcript(
            clientNonce: Self.clientNonce, clientID: "alice", serverNonce: Self.serverNonce, cookie: Self.cookie)
        #expect(KeysFile.hex(transcript) == "bc08d7f37650798414206352783b2f713473342cc4551d7ceea205d516e1f27d")
        let proof = Self.schedule.clientProof(key: Self.key, transcript: transcript)
        #expect(KeysFile.hex(proof) == "1ab45002c4dd4e343c483c4316a093a15bdad713768740816ffa448eee79a355")
        #expect(KeysFile.hex(Self.schedule.serverProof(
            key: Self.key, transcript: transcript, sessionID: Self.sessionID, parameters: Self.parameters))
            == "cf20b37a5d43a509f13730563e2402bd12e0234bcdc50ab48fe815fa8cd38080")
        let keys = Self.schedule.sessionKeys(
            key: Self.key, clientNonce: Self.clientNonce, serverNonce: Self.serverNonce, transcript: transcript,
            sessionID: Self.sessionID, parameters: Self.parameters)
        #expect(KeysFile.hex(keys.clientToServer) == "e0eb3d3532025060c06d8a4871b50cdf3073068fec9b35305d90291d5c341d73")
        #expect(KeysFile.hex(keys.serverToClient) == "d294117f433a5862a7604888320231f5e96119b00dfc1e67188eb286527c66ce")
        let response = ReliableResponse(clientNonce: Self.clientNonce, clientID: "alice", cookie: Self.cookie, proof: proof)
        #expect(KeysFile.hex(response.encode()) == "524c595501032021222324252627282"
            + "92a2b2c2d2e2f303132333435363738393a3b3c3d3e3f05616c69636500000007606162636465666768696a6b6c6d6e6f70717"
            + "2737475767778797a7b7c7d7e7f1ab45002c4dd4e343c483c4316a093a15bdad713768740816ffa448eee79a355")
    }

    @Test(arguments: [
        (true, "e7506b69712e2e51f2111664e50e40f22a313d515fd8d89363"),
        (false, "0000000168656c6c6fe7802f3b8c7176e56a48b44e11ae624c"),
    ])
    func aDataPacket(encrypted: Bool, protectedHex: String) {
        let key = KeysFile.decodeHex(Array("e0eb3d3532025060c06d8a4871b50cdf3073068fec9b35305d90291d5c341d73".utf8))!
        let header = ReliableHeader(type: .data, sessionID: Self.sessionID, packetNumber: 1, messageSequence: 1,
                                    receiveLimit: 257, timestamp: 1000)
        var packet = header.encode() + ReliableFrame.data(index: 0, count: 1, bytes: Array("hello".utf8)).encode()
            + [UInt8](repeating: 0, count: 16)
        ReliablePacketProtection(key: key, encrypted: encrypted, direction: .clientToServer,
                                 cryptography: ReliableStandardCryptography()).protect(&packet, packetNumber: 1)
        #expect(KeysFile.hex(packet) == "524c5955011000000102030405060708000000010000000100000000000000000000010100000000000003e8"
            + protectedHex)
    }
}
