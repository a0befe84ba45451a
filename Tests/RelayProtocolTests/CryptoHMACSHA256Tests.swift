import RelayProtocol
import Testing

@Suite struct CryptoHMACSHA256Tests {
    /// RFC 4231 §4.2–4.8, HMAC-SHA-256 results. Case 5 publishes only the first 128 bits (truncation); cases 6
    /// and 7 use a 131-byte key, longer than the block, which HMAC hashes first.
    static let vectors: [(key: [UInt8], data: [UInt8], mac: String)] = [
        ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
         "a3b6167473100ee06e0c796c2955552b"),
        ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ([UInt8](repeating: 0xaa, count: 131),
         Array(("This is a test using a larger than block-size key and a larger than block-size data. "
             + "The key needs to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ]

    @Test(arguments: vectors.indices)
    func matchesRFC4231(index: Int) {
        let (key, data, mac) = Self.vectors[index]
        let code = HMACSHA256.authenticationCode(key: key, message: data)
        #expect(code.count == 32)
        // Case 5 checks the leftmost 128 bits, as the RFC's truncation case does.
        #expect(Array(code.prefix(mac.count / 2)).hex == mac)
    }

    @Test func aKeyedInstanceIsReusableForManyMessages() {
        let keyed = HMACSHA256(key: Self.vectors[0].key)
        for _ in 0..<3 {
            #expect(keyed.authenticationCode(for: Self.vectors[0].data).hex == Self.vectors[0].mac)
        }
        #expect(keyed.authenticationCode(for: Array("other".utf8))
            == HMACSHA256.authenticationCode(key: Self.vectors[0].key, message: Array("other".utf8)))
    }

    @Test func incrementalUpdatesInRandomSplitsEqualOneShot() {
        var random = CryptoTestRandom()
        for _ in 0..<100 {
            let key = random.bytes(random.int(in: 0...150))
            let message = random.bytes(random.int(in: 0...500))
            var mac = HMACSHA256(key: key)
            var start = 0
            while start < message.count {
                let end = min(message.count, start + random.int(in: 0...100))
                mac.update(message[start..<end])
                start = end
            }
            #expect(mac.finalize() == HMACSHA256.authenticationCode(key: key, message: message),
                    "seed \(random.seed)")
        }
    }

    @Test func validatesOnlyTheFullCodeOfTheSameMessage() {
        let keyed = HMACSHA256(key: Self.vectors[1].key)
        let message = Self.vectors[1].data
        let code = [UInt8](hex: Self.vectors[1].mac)
        #expect(keyed.isValidAuthenticationCode(code, for: message))
        #expect(!keyed.isValidAuthenticationCode(code.prefix(16), for: message))
        #expect(!keyed.isValidAuthenticationCode(code + [0], for: message))
        #expect(!keyed.isValidAuthenticationCode(code, for: message + [0]))
        for bit in 0..<256 {
            var flipped = code
            flipped[bit / 8] ^= 1 << (bit % 8)
            #expect(!keyed.isValidAuthenticationCode(flipped, for: message))
        }
    }
}
