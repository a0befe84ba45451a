import Testing
@testable import RelayProtocol

/// The adapter from `Crypto/` to the protocol's interface: the AEAD in place on a whole packet gives RFC 8439's
/// own answers, and authentication without encryption is the AEAD with an empty plaintext.
@Suite struct ReliableStandardCryptographyTests {
    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8.filter { $0 != UInt8(ascii: " ") })
        return stride(from: 0, to: digits.count, by: 2).map {
            UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)!
        }
    }

    static let key = hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
    static let nonce = hex("070000004041424344454647")
    static let aad = hex("50515253c0c1c2c3c4c5c6c7")
    static let plaintext = Array(("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for "
        + "the future, sunscreen would be it.").utf8)

    @Test func sealingInPlaceGivesRFC8439Section2_8_2() {
        let aead = ReliableStandardCryptography().aead(key: Self.key)
        var packet = Self.aad + Self.plaintext + [UInt8](repeating: 0, count: 16)
        aead.seal(&packet, associatedCount: 12, nonce: Self.nonce)
        #expect(Array(packet.prefix(12)) == Self.aad)
        #expect(Array(packet[12..<28]) == Self.hex("d31a8d34648e60db7b86afbc53ef7ec2"))
        #expect(Array(packet.suffix(16)) == Self.hex("1ae10b594f09e26a7e902ecbd0600691"))
        var opened = packet
        #expect(aead.open(&opened, associatedCount: 12, nonce: Self.nonce))
        #expect(Array(opened[12..<(opened.count - 16)]) == Self.plaintext)
        var forged = packet
        forged[2] ^= 1
        #expect(!aead.open(&forged, associatedCount: 12, nonce: Self.nonce))
        #expect(forged[12...] == packet[12...])
    }

    @Test func authenticationAloneIsTheTagOfAnEmptyPlaintext() {
        let aead = ReliableStandardCryptography().aead(key: Self.key)
        var packet = Self.aad + Self.plaintext + [UInt8](repeating: 0, count: 16)
        aead.authenticate(&packet, nonce: Self.nonce)
        let expected = ChaCha20Poly1305(key: Self.key).seal(
            nonce: Self.nonce, plaintext: [UInt8](), authenticating: Self.aad + Self.plaintext)
        #expect(Array(packet.suffix(16)) == expected)
        #expect(Array(packet.dropLast(16)) == Self.aad + Self.plaintext)
        #expect(aead.verify(packet, nonce: Self.nonce))
        packet[40] ^= 0x80
        #expect(!aead.verify(packet, nonce: Self.nonce))
    }

    @Test func theOtherPrimitivesAreTheModulesOwn() {
        let crypto = ReliableStandardCryptography()
        #expect(crypto.sha256(Array("abc".utf8)) == Self.hex(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        // RFC 4231 test case 2.
        #expect(crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
            == Self.hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))
        // RFC 5869 test case 1.
        #expect(crypto.hkdfSHA256(
            inputKey: [UInt8](repeating: 0x0B, count: 22), salt: Self.hex("000102030405060708090a0b0c"),
            info: Self.hex("f0f1f2f3f4f5f6f7f8f9"), outputCount: 42)
            == Self.hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"))
        #expect(crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]) && !crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
    }
}
