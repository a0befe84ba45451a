import RelayProtocol
import Testing

@Suite struct CryptoPoly1305Tests {
    /// RFC 8439 §2.5.2 and Appendix A.3 #1–#11. Vectors #5–#11 give r and s separately; the key is r ‖ s.
    static let vectors: [(name: String, key: [UInt8], message: [UInt8], tag: String)] = [
        ("2.5.2", [UInt8](hex: """
            85:d6:be:78:57:55:6d:33:7f:44:52:fe:42:d5:06:a8:01:03:80:8a:fb:0d:b2:fd:4a:bf:f6:af:41:49:f5:1b
            """), RFC8439Text.forumResearchGroup, "a8:06:1d:c1:30:51:36:c6:c2:2b:8b:af:0c:01:27:a9"),
        ("A.3 #1", [UInt8](repeating: 0, count: 32), [UInt8](repeating: 0, count: 64),
         "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        ("A.3 #2", [UInt8](repeating: 0, count: 16) + [UInt8](hex: "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e"),
         RFC8439Text.ietfContribution, "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e"),
        ("A.3 #3", [UInt8](hex: "36 e5 f6 b5 c5 e0 60 70 f0 ef ca 96 22 7a 86 3e") + [UInt8](repeating: 0, count: 16),
         RFC8439Text.ietfContribution, "f3 47 7e 7c d9 54 17 af 89 a6 b8 79 4c 31 0c f0"),
        ("A.3 #4", RFC8439Text.appendixKey, RFC8439Text.jabberwocky, "45 41 66 9a 7e aa ee 61 e7 08 dc 7c bc c5 eb 62"),
        ("A.3 #5", key(r: "02", s: ""), [UInt8](hex: "FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
         "03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        ("A.3 #6", key(r: "02", s: "FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
         [UInt8](hex: "02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
         "03 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        ("A.3 #7", key(r: "01", s: ""), [UInt8](hex: """
            FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            F0 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            11 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """), "05 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        ("A.3 #8", key(r: "01", s: ""), [UInt8](hex: """
            FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF
            FB FE FE FE FE FE FE FE FE FE FE FE FE FE FE FE
            01 01 01 01 01 01 01 01 01 01 01 01 01 01 01 01
            """), "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
        ("A.3 #9", key(r: "02", s: ""), [UInt8](hex: "FD FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
         "FA FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF"),
        ("A.3 #10", key(r: "01 00 00 00 00 00 00 00 04", s: ""), [UInt8](hex: """
            E3 35 94 D7 50 5E 43 B9 00 00 00 00 00 00 00 00
            33 94 D7 50 5E 43 79 CD 01 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """), "14 00 00 00 00 00 00 00 55 00 00 00 00 00 00 00"),
        ("A.3 #11", key(r: "01 00 00 00 00 00 00 00 04", s: ""), [UInt8](hex: """
            E3 35 94 D7 50 5E 43 B9 00 00 00 00 00 00 00 00
            33 94 D7 50 5E 43 79 CD 01 00 00 00 00 00 00 00
            00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
            """), "13 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
    ]

    /// r ‖ s from the leading bytes of each (the RFC prints all 16; the rest are zeros).
    static func key(r: String, s: String) -> [UInt8] {
        func padded(_ hex: String) -> [UInt8] {
            let bytes = [UInt8](hex: hex)
            return bytes + [UInt8](repeating: 0, count: 16 - bytes.count)
        }
        return padded(r) + padded(s)
    }

    @Test(arguments: vectors.indices)
    func tagMatchesRFC8439(index: Int) {
        let vector = Self.vectors[index]
        #expect(Poly1305.authenticationCode(key: vector.key, message: vector.message) == [UInt8](hex: vector.tag),
                "\(vector.name)")
    }

    @Test(arguments: vectors.indices)
    func incrementalUpdatesInEverySplitEqualOneShot(index: Int) {
        let vector = Self.vectors[index]
        let expected = [UInt8](hex: vector.tag)
        for split in 0...vector.message.count {
            var authenticator = Poly1305(key: vector.key)
            authenticator.update(vector.message[..<split])
            authenticator.update(vector.message[split...])
            #expect(authenticator.finalize() == expected, "\(vector.name) split at \(split)")
        }
    }

    @Test func incrementalUpdatesInRandomPiecesEqualOneShot() {
        var random = CryptoTestRandom()
        for _ in 0..<100 {
            let key = random.bytes(32)
            let message = random.bytes(random.int(in: 0...400))
            var authenticator = Poly1305(key: key)
            var start = 0
            while start < message.count {
                let end = min(message.count, start + random.int(in: 0...40))
                authenticator.update(message[start..<end])
                start = end
            }
            #expect(authenticator.finalize() == Poly1305.authenticationCode(key: key, message: message),
                    "seed \(random.seed)")
        }
    }

    /// RFC 8439 §2.6.2 and Appendix A.4 #1–#3: the one-time key is the first 32 bytes of the block for counter 0.
    static let keyGenerationVectors: [(name: String, key: [UInt8], nonce: [UInt8], oneTimeKey: String)] = [
        ("2.6.2", Array(0x80...0x9f), [UInt8](hex: "00 00 00 00 00 01 02 03 04 05 06 07"), """
            8a d5 a0 8b 90 5f 81 cc 81 50 40 27 4a b2 94 71 a8 33 b6 37 e3 fd 0d a5 08 db b8 e2 fd d1 a6 46
            """),
        ("A.4 #1", [UInt8](repeating: 0, count: 32), [UInt8](repeating: 0, count: 12), """
            76 b8 e0 ad a0 f1 3d 90 40 5d 6a e5 53 86 bd 28 bd d2 19 b8 a0 8d ed 1a a8 36 ef cc 8b 77 0d c7
            """),
        ("A.4 #2", [UInt8](repeating: 0, count: 31) + [1], [UInt8](repeating: 0, count: 11) + [2], """
            ec fa 25 4f 84 5f 64 74 73 d3 cb 14 0d a9 e8 76 06 cb 33 06 6c 44 7b 87 bc 26 66 dd e3 fb b7 39
            """),
        ("A.4 #3", RFC8439Text.appendixKey, [UInt8](repeating: 0, count: 11) + [2], """
            96 5e 3b c6 f9 ec 7e d9 56 08 08 f4 d2 29 f9 4b 13 7f f2 75 ca 9b 3f cb dd 59 de aa d2 33 10 ae
            """),
    ]

    @Test(arguments: keyGenerationVectors.indices)
    func oneTimeKeyGenerationMatchesRFC8439(index: Int) {
        let vector = Self.keyGenerationVectors[index]
        let oneTimeKey = Array(ChaCha20(key: vector.key).block(counter: 0, nonce: vector.nonce).prefix(32))
        #expect(oneTimeKey == [UInt8](hex: vector.oneTimeKey), "\(vector.name)")
    }

    @Test func aWrongKeyLengthIsAPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = Poly1305(key: [UInt8](repeating: 0, count: 16))
        }
    }
}
