import RelayProtocol
import Testing
import TestSupport

@Suite struct CryptoChaCha20Poly1305Tests {
    /// RFC 8439 §2.8.2: the nonce is the 32-bit constant 07 00 00 00 followed by the IV.
    static let example = (
        key: [UInt8](Array(0x80...0x9f)),
        nonce: [UInt8](hex: "07 00 00 00 40 41 42 43 44 45 46 47"),
        aad: [UInt8](hex: "50 51 52 53 c0 c1 c2 c3 c4 c5 c6 c7"),
        oneTimeKey: [UInt8](hex: """
            7b ac 2b 25 2d b4 47 af 09 b6 7a 55 a4 e9 55 84 0a e1 d6 73 10 75 d9 eb 2a 93 75 78 3e d5 53 ff
            """),
        ciphertext: [UInt8](hex: """
            d3 1a 8d 34 64 8e 60 db 7b 86 af bc 53 ef 7e c2 a4 ad ed 51 29 6e 08 fe a9 e2 b5 a7 36 ee 62 d6
            3d be a4 5e 8c a9 67 12 82 fa fb 69 da 92 72 8b 1a 71 de 0a 9e 06 0b 29 05 d6 a5 b6 7e cd 3b 36
            92 dd bd 7f 2d 77 8b 8c 98 03 ae e3 28 09 1b 58 fa b3 24 e4 fa d6 75 94 55 85 80 8b 48 31 d7 bc
            3f f4 de f0 8e 4b 7a 9d e5 76 d2 65 86 ce c6 4b 61 16
            """),
        tag: [UInt8](hex: "1a:e1:0b:59:4f:09:e2:6a:7e:90:2e:cb:d0:60:06:91")
    )

    /// RFC 8439 Appendix A.5: a message to decrypt, with its nonce, AAD and received tag.
    static let appendix = (
        nonce: [UInt8](hex: "00 00 00 00 01 02 03 04 05 06 07 08"),
        aad: [UInt8](hex: "f3 33 88 86 00 00 00 00 00 00 4e 91"),
        oneTimeKey: [UInt8](hex: """
            bd f0 4a a9 5c e4 de 89 95 b1 4b b6 a1 8f ec af 26 47 8f 50 c0 54 f5 63 db c0 a2 1e 26 15 72 aa
            """),
        ciphertext: [UInt8](hex: """
            64 a0 86 15 75 86 1a f4 60 f0 62 c7 9b e6 43 bd 5e 80 5c fd 34 5c f3 89 f1 08 67 0a c7 6c 8c b2
            4c 6c fc 18 75 5d 43 ee a0 9e e9 4e 38 2d 26 b0 bd b7 b7 3c 32 1b 01 00 d4 f0 3b 7f 35 58 94 cf
            33 2f 83 0e 71 0b 97 ce 98 c8 a8 4a bd 0b 94 81 14 ad 17 6e 00 8d 33 bd 60 f9 82 b1 ff 37 c8 55
            97 97 a0 6e f4 f0 ef 61 c1 86 32 4e 2b 35 06 38 36 06 90 7b 6a 7c 02 b0 f9 f6 15 7b 53 c8 67 e4
            b9 16 6c 76 7b 80 4d 46 a5 9b 52 16 cd e7 a4 e9 90 40 c5 a4 04 33 22 5e e2 82 a1 b0 a0 6c 52 3e
            af 45 34 d7 f8 3f a1 15 5b 00 47 71 8c bc 54 6a 0d 07 2b 04 b3 56 4e ea 1b 42 22 73 f5 48 27 1a
            0b b2 31 60 53 fa 76 99 19 55 eb d6 31 59 43 4e ce bb 4e 46 6d ae 5a 10 73 a6 72 76 27 09 7a 10
            49 e6 17 d9 1d 36 10 94 fa 68 f0 ff 77 98 71 30 30 5b ea ba 2e da 04 df 99 7b 71 4d 6c 6f 2c 29
            a6 ad 5c b4 02 2b 02 70 9b
            """),
        tag: [UInt8](hex: "ee ad 9d 67 89 0c bb 22 39 23 36 fe a1 85 1f 38")
    )

    @Test func sealMatchesRFC8439Section2_8_2() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let sealed = aead.seal(nonce: Self.example.nonce, plaintext: RFC8439Text.sunscreen,
                               authenticating: Self.example.aad)
        #expect(sealed == Self.example.ciphertext + Self.example.tag)
        #expect(Array(ChaCha20(key: Self.example.key).block(counter: 0, nonce: Self.example.nonce).prefix(32))
            == Self.example.oneTimeKey)
    }

    @Test func openMatchesRFC8439Section2_8_2() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let opened = aead.open(nonce: Self.example.nonce, sealed: Self.example.ciphertext + Self.example.tag,
                               authenticating: Self.example.aad)
        #expect(opened == RFC8439Text.sunscreen)
    }

    @Test func decryptsRFC8439AppendixA5() {
        let aead = ChaCha20Poly1305(key: RFC8439Text.appendixKey)
        let opened = aead.open(nonce: Self.appendix.nonce, sealed: Self.appendix.ciphertext + Self.appendix.tag,
                               authenticating: Self.appendix.aad)
        #expect(opened == RFC8439Text.internetDrafts)
        #expect(Array(ChaCha20(key: RFC8439Text.appendixKey).block(counter: 0, nonce: Self.appendix.nonce).prefix(32))
            == Self.appendix.oneTimeKey)
        #expect(aead.seal(nonce: Self.appendix.nonce, plaintext: RFC8439Text.internetDrafts,
                          authenticating: Self.appendix.aad) == Self.appendix.ciphertext + Self.appendix.tag)
    }

    @Test func flippingAnyBitOfCiphertextTagNonceOrAADFailsToOpen() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let sealed = Self.example.ciphertext + Self.example.tag
        let (nonce, aad) = (Self.example.nonce, Self.example.aad)
        for bit in 0..<(sealed.count * 8) {
            var tampered = sealed
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(aead.open(nonce: nonce, sealed: tampered, authenticating: aad) == nil, "sealed bit \(bit)")
        }
        for bit in 0..<(nonce.count * 8) {
            var tampered = nonce
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(aead.open(nonce: tampered, sealed: sealed, authenticating: aad) == nil, "nonce bit \(bit)")
        }
        for bit in 0..<(aad.count * 8) {
            var tampered = aad
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(aead.open(nonce: nonce, sealed: sealed, authenticating: tampered) == nil, "AAD bit \(bit)")
        }
    }

    @Test func truncatedExtendedOrWronglyKeyedMessagesFailToOpen() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let sealed = Self.example.ciphertext + Self.example.tag
        let (nonce, aad) = (Self.example.nonce, Self.example.aad)
        #expect(aead.open(nonce: nonce, sealed: sealed.dropLast(), authenticating: aad) == nil)
        #expect(aead.open(nonce: nonce, sealed: sealed.dropFirst(), authenticating: aad) == nil)
        #expect(aead.open(nonce: nonce, sealed: sealed + [0], authenticating: aad) == nil)
        #expect(aead.open(nonce: nonce, sealed: aad + [0], authenticating: aad + [0]) == nil)
        #expect(aead.open(nonce: nonce, sealed: Self.example.tag.prefix(15), authenticating: aad) == nil)
        #expect(aead.open(nonce: nonce, sealed: [UInt8](), authenticating: aad) == nil)
        var otherKey = Self.example.key
        otherKey[31] ^= 1
        #expect(ChaCha20Poly1305(key: otherKey).open(nonce: nonce, sealed: sealed, authenticating: aad) == nil)
    }

    @Test func emptyPlaintextAndEmptyAADRoundTrip() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let sealed = aead.seal(nonce: Self.example.nonce, plaintext: [UInt8](), authenticating: [UInt8]())
        #expect(sealed.count == 16)
        #expect(aead.open(nonce: Self.example.nonce, sealed: sealed, authenticating: [UInt8]()) == [])
    }

    @Test(.computeBound) func inPlaceSealAndOpenEqualTheCopyingOnesAtEveryLength() {
        let aead = ChaCha20Poly1305(key: RFC8439Text.appendixKey)
        let nonce = Self.appendix.nonce
        var random = CryptoTestRandom()
        for length in 0...600 {
            let plaintext = random.bytes(length)
            let aad = random.bytes(length % 37)
            let sealed = aead.seal(nonce: nonce, plaintext: plaintext, authenticating: aad)
            var text = plaintext
            var tag = [UInt8](repeating: 0, count: 16)
            text.withUnsafeMutableBytes { text in
                tag.withUnsafeMutableBytes { aead.seal(nonce: nonce, inPlace: text, authenticating: aad, tag: $0) }
            }
            #expect(text + tag == sealed, "\(length) bytes")
            let opened = text.withUnsafeMutableBytes {
                aead.open(nonce: nonce, inPlace: $0, authenticating: aad, tag: tag)
            }
            #expect(opened && text == plaintext, "\(length) bytes")
        }
    }

    @Test func inPlaceOpenWithABadTagLeavesTheCiphertextUntouched() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        var text = Self.example.ciphertext
        var tag = Self.example.tag
        tag[0] ^= 0x80
        let opened = text.withUnsafeMutableBytes {
            aead.open(nonce: Self.example.nonce, inPlace: $0, authenticating: Self.example.aad, tag: tag)
        }
        #expect(!opened)
        #expect(text == Self.example.ciphertext)
        let shortTag = text.withUnsafeMutableBytes {
            aead.open(nonce: Self.example.nonce, inPlace: $0, authenticating: Self.example.aad,
                      tag: Self.example.tag.prefix(15))
        }
        #expect(!shortTag)
        #expect(text == Self.example.ciphertext)
    }

    @Test func inPlaceSealOfOnePacketWorksInsideOneBuffer() {
        // The per-packet layout: header (authenticated, not encrypted), payload, tag, in one buffer.
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let header = Self.example.aad
        var packet = header + RFC8439Text.sunscreen + [UInt8](repeating: 0, count: 16)
        let payloadEnd = header.count + RFC8439Text.sunscreen.count
        packet.withUnsafeMutableBytes { packet in
            aead.seal(nonce: Self.example.nonce,
                      inPlace: UnsafeMutableRawBufferPointer(rebasing: packet[header.count..<payloadEnd]),
                      authenticating: UnsafeRawBufferPointer(rebasing: packet[..<header.count]),
                      tag: UnsafeMutableRawBufferPointer(rebasing: packet[payloadEnd...]))
        }
        #expect(packet == header + Self.example.ciphertext + Self.example.tag)
    }

    @Test func authenticateOnlyIsSealWithAnEmptyPlaintextAndTheMessageAsAAD() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        var random = CryptoTestRandom()
        for length in [0, 1, 15, 16, 17, 114, 1200] {
            let message = random.bytes(length)
            let tag = aead.authenticateOnly(nonce: Self.example.nonce, message: message)
            #expect(tag == aead.seal(nonce: Self.example.nonce, plaintext: [UInt8](), authenticating: message))
            #expect(aead.open(nonce: Self.example.nonce, sealed: tag, authenticating: message) == [])
            #expect(aead.verifyAuthenticateOnly(tag: tag, nonce: Self.example.nonce, message: message))
            var buffer = [UInt8](repeating: 0, count: 16)
            buffer.withUnsafeMutableBytes {
                aead.authenticateOnly(nonce: Self.example.nonce, message: message, tag: $0)
            }
            #expect(buffer == tag)
        }
    }

    @Test func authenticateOnlyTagIsPoly1305UnderTheSection2_6KeyOverTheRFCLayout() {
        // Built by hand from §2.6 and §2.8: message ‖ pad16 ‖ (no ciphertext) ‖ le64(len) ‖ le64(0).
        let message = RFC8439Text.sunscreen
        var macData = message + [UInt8](repeating: 0, count: (16 - message.count % 16) % 16)
        macData += withUnsafeBytes(of: UInt64(message.count).littleEndian, Array.init)
        macData += [UInt8](repeating: 0, count: 8)
        let oneTimeKey = ChaCha20(key: Self.example.key).block(counter: 0, nonce: Self.example.nonce).prefix(32)
        let aead = ChaCha20Poly1305(key: Self.example.key)
        #expect(aead.authenticateOnly(nonce: Self.example.nonce, message: message)
            == Poly1305.authenticationCode(key: oneTimeKey, message: macData))
    }

    @Test func authenticateOnlyRejectsAnyChangedBit() {
        let aead = ChaCha20Poly1305(key: Self.example.key)
        let message = RFC8439Text.forumResearchGroup
        let tag = aead.authenticateOnly(nonce: Self.example.nonce, message: message)
        for bit in 0..<(message.count * 8) {
            var tampered = message
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(!aead.verifyAuthenticateOnly(tag: tag, nonce: Self.example.nonce, message: tampered))
        }
        for bit in 0..<128 {
            var tampered = tag
            tampered[bit / 8] ^= 1 << (bit % 8)
            #expect(!aead.verifyAuthenticateOnly(tag: tampered, nonce: Self.example.nonce, message: message))
        }
        #expect(!aead.verifyAuthenticateOnly(tag: tag.prefix(8), nonce: Self.example.nonce, message: message))
    }

    @Test func aWrongKeyLengthIsAPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = ChaCha20Poly1305(key: [UInt8](repeating: 0, count: 31))
        }
    }

    @Test func aWrongNonceLengthIsAPreconditionForSeal() async {
        await #expect(processExitsWith: .failure) {
            _ = ChaCha20Poly1305(key: [UInt8](repeating: 0, count: 32))
                .seal(nonce: [UInt8](repeating: 0, count: 8), plaintext: [UInt8](), authenticating: [UInt8]())
        }
    }

    @Test func aWrongNonceLengthIsAPreconditionForOpen() async {
        await #expect(processExitsWith: .failure) {
            _ = ChaCha20Poly1305(key: [UInt8](repeating: 0, count: 32))
                .open(nonce: [UInt8](repeating: 0, count: 16), sealed: [UInt8](repeating: 0, count: 16),
                      authenticating: [UInt8]())
        }
    }
}
