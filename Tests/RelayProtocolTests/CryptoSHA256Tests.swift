import RelayProtocol
import Testing
import TestSupport

@Suite(.computeBound) struct CryptoSHA256Tests {
    /// The FIPS 180-4 examples NIST publishes for SHA-256 ("abc", the 448- and 896-bit messages) and the two
    /// classic extra cases (the empty message and one million 'a').
    static let vectors: [(message: [UInt8], digest: String)] = [
        ([], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        (Array("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        (Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        (Array(("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
            + "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu").utf8),
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
        ([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000),
         "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"),
    ]

    @Test(arguments: vectors.indices)
    func hashesTheNISTExamples(index: Int) {
        let (message, digest) = Self.vectors[index]
        #expect(SHA256.hash(message).hex == digest)
    }

    @Test(.computeBound) func oneMillionAsFedOneByteAtATimeGiveTheSameDigest() {
        var hasher = SHA256()
        for _ in 0..<1_000_000 {
            hasher.update(CollectionOfOne(UInt8(ascii: "a")))
        }
        #expect(hasher.finalize().hex == Self.vectors[4].digest)
    }

    @Test func incrementalUpdatesInRandomSplitsEqualOneShot() {
        var random = CryptoTestRandom()
        for _ in 0..<200 {
            let message = random.bytes(random.int(in: 0...700))
            var hasher = SHA256()
            var start = 0
            while start < message.count {
                let end = min(message.count, start + random.int(in: 0...130))
                hasher.update(message[start..<end])
                start = end
            }
            #expect(hasher.finalize() == SHA256.hash(message), "seed \(random.seed), \(message.count) bytes")
        }
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = SHA256()
        hasher.update(Array("ab".utf8))
        _ = hasher.finalize()
        hasher.update(Array("c".utf8))
        #expect(hasher.finalize().hex == Self.vectors[1].digest)
    }

    @Test func acceptsAnyByteCollection() {
        let expected = Self.vectors[1].digest
        #expect(SHA256.hash("abc".utf8).hex == expected)
        #expect(SHA256.hash(Array("xabcx".utf8)[1..<4]).hex == expected)
        #expect(SHA256.hash([UInt8]("abc".utf8).reversed().reversed()).hex == expected)
        Array("abc".utf8).withUnsafeBytes { #expect(SHA256.hash($0).hex == expected) }
    }

    @Test func finalizeIntoWritesTheDigestWithoutAllocating() {
        var hasher = SHA256()
        hasher.update(Array("abc".utf8))
        var digest = [UInt8](repeating: 0, count: 40)
        digest.withUnsafeMutableBytes { hasher.finalize(into: $0) }
        #expect(Array(digest.prefix(32)).hex == Self.vectors[1].digest)
        #expect(digest.suffix(8).allSatisfy { $0 == 0 })
    }
}
