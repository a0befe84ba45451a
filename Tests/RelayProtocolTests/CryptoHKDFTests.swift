import RelayProtocol
import Testing

@Suite struct CryptoHKDFTests {
    /// RFC 5869 Appendix A, test cases 1–3 (the SHA-256 ones).
    static let vectors: [(ikm: [UInt8], salt: [UInt8], info: [UInt8], length: Int, prk: String, okm: String)] = [
        ([UInt8](repeating: 0x0b, count: 22), Array(0x00...0x0c), Array(0xf0...0xf9), 42,
         "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
         "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"),
        (Array(0x00...0x4f), Array(0x60...0xaf), Array(0xb0...0xff), 82,
         "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
         "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
             + "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
             + "cc30c58179ec3e87c14c01d5c1f3434f1d87"),
        ([UInt8](repeating: 0x0b, count: 22), [], [], 42,
         "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
         "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"),
    ]

    @Test(arguments: vectors.indices)
    func matchesRFC5869(index: Int) {
        let vector = Self.vectors[index]
        let prk = HKDF.extract(salt: vector.salt, inputKeyMaterial: vector.ikm)
        #expect(prk.hex == vector.prk)
        #expect(HKDF.expand(pseudorandomKey: prk, info: vector.info, length: vector.length).hex == vector.okm)
        #expect(HKDF.deriveKey(inputKeyMaterial: vector.ikm, salt: vector.salt, info: vector.info,
                               length: vector.length).hex == vector.okm)
    }

    @Test func anEmptySaltIsTheRFCsStringOfHashLenZeros() {
        let ikm = [UInt8](repeating: 0x0b, count: 22)
        #expect(HKDF.extract(salt: [UInt8](), inputKeyMaterial: ikm)
            == HKDF.extract(salt: [UInt8](repeating: 0, count: 32), inputKeyMaterial: ikm))
    }

    @Test func shorterOutputsArePrefixesOfLongerOnes() {
        let prk = [UInt8](hex: Self.vectors[0].prk)
        let longest = HKDF.expand(pseudorandomKey: prk, info: [UInt8](), length: HKDF.maximumLength)
        #expect(longest.count == 8160)
        for length in [0, 1, 31, 32, 33, 64, 100, 8159] {
            #expect(HKDF.expand(pseudorandomKey: prk, info: [UInt8](), length: length) == Array(longest.prefix(length)))
        }
    }

    @Test func outputLongerThan255BlocksIsAPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = HKDF.expand(pseudorandomKey: [UInt8](repeating: 1, count: 32), info: [UInt8](), length: 8161)
        }
    }

    @Test func aPseudorandomKeyShorterThanHashLenIsAPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = HKDF.expand(pseudorandomKey: [UInt8](repeating: 1, count: 31), info: [UInt8](), length: 32)
        }
    }
}
