// A stand-in for the real primitives, for the long simulations whose subject is the state machine (tests run
// unoptimised, where ChaCha20-Poly1305 would take most of their time). It is NOT cryptography: a keyed 64-bit
// mixing function that depends on every byte of key and message, enough for a wrong key, a flipped bit or another
// nonce to fail a tag, and nothing more.
import RelayProtocol

/// Deterministic, key-dependent, and insecure: see the file comment.
struct TestCryptography: ReliableCryptography {
    func sha256(_ message: [UInt8]) -> [UInt8] {
        Self.digest([[1], message], count: 32)
    }

    func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Self.digest([[2], key, message], count: 32)
    }

    func hkdfSHA256(inputKey: [UInt8], salt: [UInt8], info: [UInt8], outputCount: Int) -> [UInt8] {
        Self.digest([[3], inputKey, salt, info], count: outputCount)
    }

    func aead(key: [UInt8]) -> any ReliableAEAD {
        TestAEAD(key: key)
    }

    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a == b
    }

    /// `count` bytes mixed from every part, each part's length mixed in first so parts cannot slide.
    static func digest(_ parts: [[UInt8]], count: Int) -> [UInt8] {
        var seeds: [UInt64] = []
        for part in parts { seeds.append(part.withUnsafeBytes { absorb($0) }) }
        return squeeze(seeds, count: count)
    }

    /// One part's 64-bit summary, eight bytes at a time (the tests run unoptimised, and this runs per packet).
    static func absorb(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var state = mix(UInt64(bytes.count))
        var offset = 0
        while offset + 8 <= bytes.count {
            state = mix(state ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            offset += 8
        }
        var tail: UInt64 = 0
        while offset < bytes.count {
            tail = tail << 8 | UInt64(bytes[offset])
            offset += 1
        }
        return mix(state ^ tail)
    }

    /// `count` bytes from the parts' summaries.
    static func squeeze(_ seeds: [UInt64], count: Int) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(count + 8)
        var block: UInt64 = 0
        while out.count < count {
            var state: UInt64 = 0x9E37_79B9_7F4A_7C15 &* (block &+ 1)
            for seed in seeds { state = mix(state ^ seed) }
            withUnsafeBytes(of: state.bigEndian) { out += $0 }
            block += 1
        }
        if out.count > count { out.removeLast(out.count - count) }
        return out
    }

    /// SplitMix64's finaliser.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// XOR with a keystream and a mixed tag: shaped like an AEAD, secure like a postcard.
struct TestAEAD: ReliableAEAD {
    let key: [UInt8]

    /// The tag of everything before the last 16 bytes, under a domain byte.
    private func tag(_ domain: UInt8, _ packet: [UInt8], nonce: [UInt8]) -> [UInt8] {
        let body = packet.withUnsafeBytes { TestCryptography.absorb(UnsafeRawBufferPointer(rebasing: $0[..<(packet.count - 16)])) }
        let seeds = [[domain], key, nonce].map { part in part.withUnsafeBytes { TestCryptography.absorb($0) } }
        return TestCryptography.squeeze(seeds + [body], count: 16)
    }

    private func xorStream(_ packet: inout [UInt8], from start: Int, nonce: [UInt8]) {
        let end = packet.count - 16
        guard end > start else { return }
        let seed = TestCryptography.digest([[4], key, nonce], count: 8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        packet.withUnsafeMutableBytes { bytes in
            var offset = start
            var block: UInt64 = 0
            while offset + 8 <= end {
                let word = bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
                bytes.storeBytes(of: word ^ TestCryptography.mix(seed ^ block), toByteOffset: offset, as: UInt64.self)
                offset += 8
                block += 1
            }
            var word = TestCryptography.mix(seed ^ block)
            while offset < end {
                bytes[offset] ^= UInt8(truncatingIfNeeded: word)
                word >>= 8
                offset += 1
            }
        }
    }

    func seal(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8]) {
        xorStream(&packet, from: associatedCount, nonce: nonce)
        packet.replaceSubrange((packet.count - 16)..., with: tag(5, packet, nonce: nonce))
    }

    func open(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8]) -> Bool {
        guard Array(packet[(packet.count - 16)...]) == tag(5, packet, nonce: nonce) else { return false }
        xorStream(&packet, from: associatedCount, nonce: nonce)
        return true
    }

    func authenticate(_ packet: inout [UInt8], nonce: [UInt8]) {
        packet.replaceSubrange((packet.count - 16)..., with: tag(6, packet, nonce: nonce))
    }

    func verify(_ packet: [UInt8], nonce: [UInt8]) -> Bool {
        Array(packet[(packet.count - 16)...]) == tag(6, packet, nonce: nonce)
    }
}
