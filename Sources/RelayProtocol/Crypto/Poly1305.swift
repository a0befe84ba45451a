/// The Poly1305 one-time authenticator of RFC 8439 §2.5: a 16-byte tag for a message under a 32-byte key that
/// must never authenticate a second message.
///
/// The key's first half is r, clamped as §2.5 says; its second half is s. Each 16-byte block of the message, read
/// little-endian with a 1 bit appended above its last byte, is added to an accumulator that is then multiplied by
/// r modulo p = 2^130 − 5; the tag is the accumulator plus s, modulo 2^128.
///
/// "One-time" is literal: two messages under one key let an attacker forge. Use it through `ChaCha20Poly1305`,
/// which derives a fresh key for every nonce (§2.6), unless a protocol gives you one-time keys itself.
///
/// The accumulator is three 64-bit limbs (h0 + h1·2^64 + h2·2^128) and r two (r0 + r1·2^64). Clamping leaves r1
/// a multiple of 4, so the partial products at 2^128 and above fold back below 2^130 with the single constant
/// 5·r1/4 (2^130 ≡ 5 mod p), and each block costs four 64×64-bit multiplications. Nothing branches on secret
/// data; the final reduction selects with a mask.
public struct Poly1305: Sendable {
    /// The key length in bytes: r and s, 16 bytes each.
    public static let keyByteCount = 32
    /// The tag length in bytes.
    public static let tagByteCount = 16
    /// The block length in bytes.
    static let blockByteCount = 16

    /// r, clamped (§2.5), as two little-endian limbs.
    private let r0, r1: UInt64
    /// 5·r1/4, exact because clamping clears r1's two low bits: h1·r1·2^128 ≡ h1·(5·r1/4) and h2·r1·2^192 ≡
    /// h2·(5·r1/4)·2^64 modulo p.
    private let r1Folded: UInt64
    /// s, added to the accumulator at the end.
    private let s0, s1: UInt64
    /// The accumulator: h0 + h1·2^64 + h2·2^128, kept below 2^131 between blocks.
    private var h0: UInt64 = 0, h1: UInt64 = 0, h2: UInt64 = 0
    /// Message bytes not yet absorbed, always less than one block.
    private var pending: (UInt64, UInt64) = (0, 0)
    /// How many bytes of `pending` hold message.
    private var pendingCount = 0

    /// An authenticator under the 32-byte one-time `key`.
    @inlinable
    public init(key: some Collection<UInt8>) {
        self = key.withCryptoBytes { Poly1305(key: $0) }
    }

    /// An authenticator under the 32 bytes in `key`.
    public init(key: UnsafeRawBufferPointer) {
        precondition(key.count == Self.keyByteCount,
                     "Poly1305 takes a 32-byte one-time key (RFC 8439 §2.5), not \(key.count) bytes")
        func limb(_ offset: Int) -> UInt64 {
            UInt64(littleEndian: key.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        }
        // clamp(r): r &= 0x0ffffffc0ffffffc0ffffffc0fffffff (§2.5.1).
        r0 = limb(0) & 0x0fff_fffc_0fff_ffff
        r1 = limb(8) & 0x0fff_fffc_0fff_fffc
        r1Folded = r1 &+ (r1 &>> 2)
        s0 = limb(16)
        s1 = limb(24)
    }

    /// The tag of `message` under the one-time `key`.
    @inlinable
    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        var authenticator = Poly1305(key: key)
        authenticator.update(message)
        return authenticator.finalize()
    }

    /// Appends `bytes` to the message.
    @inlinable
    public mutating func update(_ bytes: some Collection<UInt8>) {
        bytes.withCryptoBytes { update($0) }
    }

    /// Appends the bytes in `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard var input = bytes.baseAddress, !bytes.isEmpty else { return }
        var remaining = bytes.count
        if pendingCount > 0 {
            let taken = min(Self.blockByteCount - pendingCount, remaining)
            let offset = pendingCount
            withUnsafeMutableBytes(of: &pending) { block in
                (block.baseAddress! + offset).copyMemory(from: input, byteCount: taken)
            }
            pendingCount += taken
            input += taken
            remaining -= taken
            guard pendingCount == Self.blockByteCount else { return }
            var block = pending
            withUnsafeBytes(of: &block) { absorb($0.baseAddress!, blockCount: 1, highBit: 1) }
            pendingCount = 0
        }
        let wholeBlocks = remaining / Self.blockByteCount
        if wholeBlocks > 0 {
            absorb(input, blockCount: wholeBlocks, highBit: 1)
            input += wholeBlocks * Self.blockByteCount
            remaining -= wholeBlocks * Self.blockByteCount
        }
        if remaining > 0 {
            pending = (0, 0)
            withUnsafeMutableBytes(of: &pending) { $0.baseAddress!.copyMemory(from: input, byteCount: remaining) }
            pendingCount = remaining
        }
    }

    /// The tag of everything appended so far. The authenticator is left as it was.
    public func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.tagByteCount) { buffer, initialized in
            finalize(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = Self.tagByteCount
        }
    }

    /// Writes the tag of everything appended so far to the first 16 bytes of `output`, allocating nothing.
    public func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.tagByteCount, "a Poly1305 tag needs 16 bytes, not \(output.count)")
        var copy = self
        if copy.pendingCount > 0 {
            // The last, short block: its bytes, then the 1 bit just above them (a 0x01 byte), then zeros, and no
            // 2^128 bit (§2.5).
            let count = copy.pendingCount
            var block = copy.pending
            withUnsafeMutableBytes(of: &block) { block in
                block[count] = 1
                for index in (count + 1)..<Self.blockByteCount {
                    block[index] = 0
                }
                copy.absorb(block.baseAddress!, blockCount: 1, highBit: 0)
            }
        }
        copy.writeTag(into: output.baseAddress!)
    }
}

extension Poly1305 {
    /// Absorbs `bytes` followed by zeros up to a multiple of 16 bytes, each block with its 2^128 bit: the
    /// "ciphertext | pad16(ciphertext)" pieces of the AEAD's MAC input (RFC 8439 §2.8). Only on a block boundary.
    mutating func absorbPadded(_ bytes: UnsafeRawBufferPointer) {
        precondition(pendingCount == 0, "padded input starts on a Poly1305 block boundary")
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        let wholeBlocks = bytes.count / Self.blockByteCount
        if wholeBlocks > 0 {
            absorb(base, blockCount: wholeBlocks, highBit: 1)
        }
        let remaining = bytes.count - wholeBlocks * Self.blockByteCount
        if remaining > 0 {
            var block: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &block) { block in
                block.baseAddress!.copyMemory(from: base + wholeBlocks * Self.blockByteCount, byteCount: remaining)
                absorb(block.baseAddress!, blockCount: 1, highBit: 1)
            }
        }
    }

    /// Absorbs the AEAD's final block: the two lengths as 64-bit little-endian numbers (RFC 8439 §2.8).
    mutating func absorbLengths(_ first: Int, _ second: Int) {
        precondition(pendingCount == 0, "the lengths block starts on a Poly1305 block boundary")
        var block: (UInt64, UInt64) = (UInt64(first).littleEndian, UInt64(second).littleEndian)
        withUnsafeBytes(of: &block) { absorb($0.baseAddress!, blockCount: 1, highBit: 1) }
    }

    /// Whether `tag` is the AEAD tag (§2.8) of `aad` and `ciphertext` under this one-time key, compared in
    /// constant time. A tag of any length other than 16 bytes does not match.
    mutating func matches(tag: UnsafeRawBufferPointer, aad: UnsafeRawBufferPointer,
                          ciphertext: UnsafeRawBufferPointer) -> Bool {
        absorbPadded(aad)
        absorbPadded(ciphertext)
        absorbLengths(aad.count, ciphertext.count)
        var expected: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &expected) { expected in
            writeTag(into: expected.baseAddress!)
            return ConstantTime.equal(UnsafeRawBufferPointer(expected), tag)
        }
    }

    /// Writes the tag: the accumulator fully reduced modulo p, plus s, modulo 2^128, little-endian (§2.5).
    func writeTag(into output: UnsafeMutableRawPointer) {
        // h < 2p here, so h mod p is h or h − p. h − p = h + 5 − 2^130: compute g = h + 5 and take it (its low
        // 128 bits, which are all the tag keeps) exactly when it reaches 2^130, selecting with a mask.
        var sum = UInt128(h0) &+ 5
        let g0 = UInt64(truncatingIfNeeded: sum)
        sum = UInt128(h1) &+ (sum &>> 64)
        let g1 = UInt64(truncatingIfNeeded: sum)
        let g2 = h2 &+ UInt64(truncatingIfNeeded: sum &>> 64)
        let takeG = 0 &- (g2 &>> 2)
        let f0 = (h0 & ~takeG) | (g0 & takeG)
        let f1 = (h1 & ~takeG) | (g1 & takeG)
        sum = UInt128(f0) &+ UInt128(s0)
        let t0 = UInt64(truncatingIfNeeded: sum)
        sum = UInt128(f1) &+ UInt128(s1) &+ (sum &>> 64)
        let t1 = UInt64(truncatingIfNeeded: sum)
        output.storeBytes(of: t0.littleEndian, toByteOffset: 0, as: UInt64.self)
        output.storeBytes(of: t1.littleEndian, toByteOffset: 8, as: UInt64.self)
    }

    /// Runs Acc = ((Acc + block) · r) mod p (§2.5) over `blockCount` 16-byte blocks at `blocks`; `highBit` is 1
    /// for a full block (the 2^128 bit) and 0 for a last block already padded with its 0x01 byte.
    mutating func absorb(_ blocks: UnsafeRawPointer, blockCount: Int, highBit: UInt64) {
        var h0 = self.h0, h1 = self.h1, h2 = self.h2
        let r0 = self.r0, r1 = self.r1, r1Folded = self.r1Folded
        for index in 0..<blockCount {
            let m0 = UInt64(littleEndian: blocks.loadUnaligned(fromByteOffset: index * 16, as: UInt64.self))
            let m1 = UInt64(littleEndian: blocks.loadUnaligned(fromByteOffset: index * 16 + 8, as: UInt64.self))
            // h += m + highBit·2^128
            var sum = UInt128(h0) &+ UInt128(m0)
            h0 = UInt64(truncatingIfNeeded: sum)
            sum = UInt128(h1) &+ UInt128(m1) &+ (sum &>> 64)
            h1 = UInt64(truncatingIfNeeded: sum)
            h2 = h2 &+ UInt64(truncatingIfNeeded: sum &>> 64) &+ highBit
            // h·r, with the products at 2^128 and 2^192 folded down: h2 ≤ 7, r0 and r1 < 2^60 and
            // r1Folded < 2^61, so no sum below overflows its type.
            let d0 = UInt128(h0) &* UInt128(r0) &+ UInt128(h1) &* UInt128(r1Folded)
            var d1 = UInt128(h0) &* UInt128(r1) &+ UInt128(h1) &* UInt128(r0) &+ UInt128(h2 &* r1Folded)
            let d2 = h2 &* r0
            h0 = UInt64(truncatingIfNeeded: d0)
            d1 &+= d0 &>> 64
            h1 = UInt64(truncatingIfNeeded: d1)
            h2 = d2 &+ UInt64(truncatingIfNeeded: d1 &>> 64)
            // Partial reduction: the bits from 2^130 up, times 5, go back to the bottom (2^130 ≡ 5 mod p), which
            // leaves h below 2^130 plus a small carry.
            let folded = (h2 & ~3) &+ (h2 &>> 2)
            h2 &= 3
            sum = UInt128(h0) &+ UInt128(folded)
            h0 = UInt64(truncatingIfNeeded: sum)
            sum = UInt128(h1) &+ (sum &>> 64)
            h1 = UInt64(truncatingIfNeeded: sum)
            h2 &+= UInt64(truncatingIfNeeded: sum &>> 64)
        }
        self.h0 = h0
        self.h1 = h1
        self.h2 = h2
    }
}
