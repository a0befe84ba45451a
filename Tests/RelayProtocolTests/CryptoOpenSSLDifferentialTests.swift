import RelayProtocol
import Testing
import TestSupport

/// Our primitives against the `openssl` command on random inputs: 50 cases each, block-boundary lengths first and
/// then random lengths up to 5000 bytes, from a seed printed with any failure (`RELAYD_CRYPTO_SEED` replays it).
@Suite(.enabled(if: OpenSSLCommand.isAvailable, OpenSSLCommand.missing), .computeBound)
struct CryptoOpenSSLDifferentialTests {
    static let cases = 50

    @Test func sha256MatchesOpenSSLDgst() throws {
        var random = CryptoTestRandom()
        for length in random.lengths(Self.cases) {
            let message = random.bytes(length)
            let expected = try OpenSSLCommand.runHex(["dgst", "-sha256"], input: message)
            #expect(SHA256.hash(message) == expected, "seed \(random.seed), \(length) bytes")
        }
    }

    @Test func hmacSHA256MatchesOpenSSLMac() throws {
        var random = CryptoTestRandom()
        for (index, length) in random.lengths(Self.cases).enumerated() {
            // Keys of every kind: empty, short, exactly a block, and longer than a block (hashed first).
            let key = random.bytes(index < 6 ? [0, 1, 32, 64, 65, 200][index] : random.int(in: 0...200))
            let message = random.bytes(length)
            let expected = try OpenSSLCommand.runHex(
                ["mac", "-digest", "SHA256", "-macopt", "hexkey:\(key.hex)", "HMAC"], input: message)
            #expect(HMACSHA256.authenticationCode(key: key, message: message) == expected,
                    "seed \(random.seed), key \(key.count) bytes, message \(length) bytes")
        }
    }

    @Test func hkdfMatchesOpenSSLKdf() throws {
        var random = CryptoTestRandom()
        for (index, length) in random.lengths(Self.cases).enumerated() {
            let ikm = random.bytes(length)
            let salt = random.bytes(index % 5 == 0 ? 0 : random.int(in: 1...200))
            let info = random.bytes(index % 7 == 0 ? 0 : random.int(in: 1...200))
            let outputLength = index < 5
                ? [1, 31, 32, 33, HKDF.maximumLength][index]
                : random.int(in: 1...(index % 2 == 0 ? 100 : HKDF.maximumLength))
            let expected = try OpenSSLCommand.runHex([
                "kdf", "-keylen", "\(outputLength)", "-kdfopt", "digest:SHA256", "-kdfopt", "hexkey:\(ikm.hex)",
                "-kdfopt", "hexsalt:\(salt.hex)", "-kdfopt", "hexinfo:\(info.hex)", "HKDF",
            ])
            #expect(HKDF.deriveKey(inputKeyMaterial: ikm, salt: salt, info: info, length: outputLength) == expected,
                    "seed \(random.seed), IKM \(length), salt \(salt.count), info \(info.count), L \(outputLength)")
        }
    }

    @Test func chaCha20MatchesOpenSSLEnc() throws {
        var random = CryptoTestRandom()
        for (index, length) in random.lengths(Self.cases).enumerated() {
            let key = random.bytes(32)
            let nonce = random.bytes(12)
            // Any counter whose message ends by block 2^32 − 1, and every fifth case the last such counter.
            let lastCounter = (UInt64(1) << 32) - UInt64((length + 63) / 64)
            let counter = UInt32(truncatingIfNeeded: index % 5 == 0
                ? min(lastCounter, UInt64(UInt32.max)) : UInt64(random.word()) % (lastCounter + 1))
            let plaintext = random.bytes(length)
            // OpenSSL's 16-byte IV is the 32-bit little-endian block counter followed by the 96-bit nonce.
            let iv = withUnsafeBytes(of: counter.littleEndian, Array.init) + nonce
            let expected = try OpenSSLCommand.run(["enc", "-chacha20", "-K", key.hex, "-iv", iv.hex],
                                                  input: plaintext)
            #expect(ChaCha20(key: key).encrypt(plaintext, counter: counter, nonce: nonce) == expected,
                    "seed \(random.seed), \(length) bytes from counter \(counter)")
        }
    }

    @Test func poly1305MatchesOpenSSLMac() throws {
        var random = CryptoTestRandom()
        for length in random.lengths(Self.cases) {
            let key = random.bytes(32)
            let message = random.bytes(length)
            let expected = try OpenSSLCommand.runHex(["mac", "-macopt", "hexkey:\(key.hex)", "Poly1305"],
                                                     input: message)
            #expect(Poly1305.authenticationCode(key: key, message: message) == expected,
                    "seed \(random.seed), \(length) bytes")
        }
    }

    /// The `openssl` command cannot run an AEAD, so this builds RFC 8439 §2.8 from its ChaCha20 and Poly1305: the
    /// one-time key is the keystream of block 0, the ciphertext the keystream from block 1, and the tag Poly1305
    /// over AAD ‖ pad16 ‖ ciphertext ‖ pad16 ‖ le64(len AAD) ‖ le64(len ciphertext).
    @Test func chaCha20Poly1305MatchesTheRFCConstructionFromOpenSSLPrimitives() throws {
        var random = CryptoTestRandom()
        for (index, length) in random.lengths(Self.cases).enumerated() {
            let key = random.bytes(32)
            let nonce = random.bytes(12)
            let aad = random.bytes(index % 4 == 0 ? 0 : random.int(in: 1...100))
            let plaintext = random.bytes(length)
            let keystream = try OpenSSLCommand.run(
                ["enc", "-chacha20", "-K", key.hex, "-iv", ([0, 0, 0, 0] + nonce).hex],
                input: [UInt8](repeating: 0, count: 64 + length))
            let oneTimeKey = Array(keystream.prefix(32))
            let ciphertext = zip(plaintext, keystream.dropFirst(64)).map { $0 ^ $1 }
            func pad16(_ bytes: [UInt8]) -> [UInt8] { [UInt8](repeating: 0, count: (16 - bytes.count % 16) % 16) }
            let macData = aad + pad16(aad) + ciphertext + pad16(ciphertext)
                + withUnsafeBytes(of: UInt64(aad.count).littleEndian, Array.init)
                + withUnsafeBytes(of: UInt64(ciphertext.count).littleEndian, Array.init)
            let tag = try OpenSSLCommand.runHex(["mac", "-macopt", "hexkey:\(oneTimeKey.hex)", "Poly1305"],
                                                input: macData)
            let aead = ChaCha20Poly1305(key: key)
            let sealed = aead.seal(nonce: nonce, plaintext: plaintext, authenticating: aad)
            #expect(sealed == ciphertext + tag, "seed \(random.seed), \(length) bytes, AAD \(aad.count)")
            #expect(aead.open(nonce: nonce, sealed: ciphertext + tag, authenticating: aad) == plaintext,
                    "seed \(random.seed), \(length) bytes, AAD \(aad.count)")
        }
    }
}
