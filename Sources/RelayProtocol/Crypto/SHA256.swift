/// SHA-256, the hash function of FIPS 180-4: one call with `hash(_:)`, or a value fed with `update(_:)` and read
/// with `finalize()`.
///
/// The message is padded as §5.1.1 says (a 1 bit, zeros, the 64-bit big-endian bit length) and compressed in
/// 512-bit blocks as §6.2.2 says, from the initial hash value of §5.3.3 with the constants of §4.2.2. Whole
/// blocks are compressed straight from the caller's buffer; only a partial block is copied aside.
///
/// The hasher is a plain value with no heap storage, so copying it is cheap and copies are independent: that is
/// how `HMACSHA256` keeps its key's padded blocks already absorbed and reuses them for every message.
public struct SHA256: Sendable {
    /// The digest length in bytes (256 bits).
    public static let byteCount = 32
    /// The block length in bytes (512 bits); HMAC pads keys to it (RFC 2104 §2, B = 64).
    public static let blockByteCount = 64

    /// The intermediate hash value H(i) of §6.2.2, starting at H(0) of §5.3.3.
    private var state = State()
    /// Input not yet compressed, always less than one block. A tuple, not an array, so that the hasher owns no
    /// heap storage and a copy allocates nothing.
    private var pending: Block = (0, 0, 0, 0, 0, 0, 0, 0)
    /// How many bytes of `pending` hold input.
    private var pendingCount = 0
    /// Bytes hashed so far: the message length ℓ of §5.1.1 is eight times this, modulo 2^64 as the padding
    /// stores it (FIPS 180-4 limits messages to 2^64 bits).
    private var totalByteCount: UInt64 = 0

    /// A hasher that has seen no input yet.
    public init() {}

    /// The SHA-256 digest of `bytes`.
    @inlinable
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        bytes.withCryptoBytes { hash($0) }
    }

    /// The SHA-256 digest of the bytes in `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
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
        totalByteCount &+= UInt64(remaining)
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
            withUnsafeBytes(of: &block) { state.compress($0.baseAddress!, blockCount: 1) }
            pendingCount = 0
        }
        let wholeBlocks = remaining / Self.blockByteCount
        if wholeBlocks > 0 {
            state.compress(input, blockCount: wholeBlocks)
            input += wholeBlocks * Self.blockByteCount
            remaining -= wholeBlocks * Self.blockByteCount
        }
        if remaining > 0 {
            withUnsafeMutableBytes(of: &pending) { block in
                block.baseAddress!.copyMemory(from: input, byteCount: remaining)
            }
            pendingCount = remaining
        }
    }

    /// The digest of everything appended so far. The hasher itself is left as it was, so more input may follow.
    public func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.byteCount) { buffer, initialized in
            finalize(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = Self.byteCount
        }
    }

    /// Writes the digest of everything appended so far to the first 32 bytes of `output`, allocating nothing.
    public func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.byteCount, "a SHA-256 digest needs 32 bytes, not \(output.count)")
        var state = self.state
        // §5.1.1: the message, a 1 bit, k zero bits, then ℓ as a 64-bit big-endian number, filling one block
        // when the partial block leaves room for the nine bytes and two blocks when it does not.
        var tail: (Block, Block) = ((0, 0, 0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0, 0, 0))
        let count = pendingCount
        let bitLength = totalByteCount &<< 3
        var pending = self.pending
        withUnsafeMutableBytes(of: &tail) { tail in
            withUnsafeBytes(of: &pending) { tail.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
            tail[count] = 0x80
            let blockCount = count < Self.blockByteCount - 8 ? 1 : 2
            tail.storeBytes(of: bitLength.bigEndian, toByteOffset: blockCount * Self.blockByteCount - 8,
                            as: UInt64.self)
            state.compress(tail.baseAddress!, blockCount: blockCount)
        }
        state.store(into: output.baseAddress!)
    }
}

extension SHA256 {
    /// Sixty-four bytes of storage held inline.
    typealias Block = (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// The eight working words H0…H7 of FIPS 180-4 §6.2.
    struct State {
        var h0: UInt32 = 0x6a09_e667
        var h1: UInt32 = 0xbb67_ae85
        var h2: UInt32 = 0x3c6e_f372
        var h3: UInt32 = 0xa54f_f53a
        var h4: UInt32 = 0x510e_527f
        var h5: UInt32 = 0x9b05_688c
        var h6: UInt32 = 0x1f83_d9ab
        var h7: UInt32 = 0x5be0_cd19

        /// The SHA-256 constants K0…K63 of §4.2.2: the first 32 bits of the fractional parts of the cube roots
        /// of the first 64 primes.
        static let roundConstants: [UInt32] = [
            0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
            0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
            0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
            0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
            0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
            0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
            0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
            0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
        ]

        /// Runs the compression of §6.2.2 over `blockCount` consecutive 64-byte blocks at `blocks`.
        mutating func compress(_ blocks: UnsafeRawPointer, blockCount: Int) {
            Self.roundConstants.withUnsafeBufferPointer { k in
                // The message schedule W0…W63 (§6.2.2 step 1), on the stack and reused for every block.
                withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
                    for blockIndex in 0..<blockCount {
                        let block = blocks + blockIndex * SHA256.blockByteCount
                        for t in 0..<16 {
                            w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: t * 4, as: UInt32.self))
                        }
                        for t in 16..<64 {
                            let sigma0 = rotateRight(w[t - 15], 7) ^ rotateRight(w[t - 15], 18) ^ (w[t - 15] &>> 3)
                            let sigma1 = rotateRight(w[t - 2], 17) ^ rotateRight(w[t - 2], 19) ^ (w[t - 2] &>> 10)
                            w[t] = sigma1 &+ w[t - 7] &+ sigma0 &+ w[t - 16]
                        }
                        var a = h0, b = h1, c = h2, d = h3, e = h4, f = h5, g = h6, h = h7
                        // Eight rounds per pass with the variables' roles rotated in the arguments, instead of
                        // the eight assignments of step 3 after every round: the same computation, without
                        // the register shuffling.
                        var t = 0
                        while t < 64 {
                            round(a, b, c, &d, e, f, g, &h, k[t] &+ w[t])
                            round(h, a, b, &c, d, e, f, &g, k[t + 1] &+ w[t + 1])
                            round(g, h, a, &b, c, d, e, &f, k[t + 2] &+ w[t + 2])
                            round(f, g, h, &a, b, c, d, &e, k[t + 3] &+ w[t + 3])
                            round(e, f, g, &h, a, b, c, &d, k[t + 4] &+ w[t + 4])
                            round(d, e, f, &g, h, a, b, &c, k[t + 5] &+ w[t + 5])
                            round(c, d, e, &f, g, h, a, &b, k[t + 6] &+ w[t + 6])
                            round(b, c, d, &e, f, g, h, &a, k[t + 7] &+ w[t + 7])
                            t += 8
                        }
                        h0 &+= a
                        h1 &+= b
                        h2 &+= c
                        h3 &+= d
                        h4 &+= e
                        h5 &+= f
                        h6 &+= g
                        h7 &+= h
                    }
                }
            }
        }

        /// Writes H0…H7 as the 32-byte big-endian digest (§6.2.2, last step).
        func store(into output: UnsafeMutableRawPointer) {
            output.storeBytes(of: h0.bigEndian, toByteOffset: 0, as: UInt32.self)
            output.storeBytes(of: h1.bigEndian, toByteOffset: 4, as: UInt32.self)
            output.storeBytes(of: h2.bigEndian, toByteOffset: 8, as: UInt32.self)
            output.storeBytes(of: h3.bigEndian, toByteOffset: 12, as: UInt32.self)
            output.storeBytes(of: h4.bigEndian, toByteOffset: 16, as: UInt32.self)
            output.storeBytes(of: h5.bigEndian, toByteOffset: 20, as: UInt32.self)
            output.storeBytes(of: h6.bigEndian, toByteOffset: 24, as: UInt32.self)
            output.storeBytes(of: h7.bigEndian, toByteOffset: 28, as: UInt32.self)
        }
    }
}

/// One round of FIPS 180-4 §6.2.2 step 3, with `d` and `h` the two words it changes: T1 = h + Σ1(e) + Ch(e, f, g)
/// + Kt + Wt and T2 = Σ0(a) + Maj(a, b, c); then e takes d + T1 and a takes T1 + T2, which the caller's rotated
/// argument order places in `d` and `h`.
@inline(__always)
private func round(
    _ a: UInt32, _ b: UInt32, _ c: UInt32, _ d: inout UInt32,
    _ e: UInt32, _ f: UInt32, _ g: UInt32, _ h: inout UInt32, _ constantPlusWord: UInt32
) {
    let bigSigma1 = rotateRight(e, 6) ^ rotateRight(e, 11) ^ rotateRight(e, 25)
    let choose = (e & f) ^ (~e & g)
    let t1 = h &+ bigSigma1 &+ choose &+ constantPlusWord
    let bigSigma0 = rotateRight(a, 2) ^ rotateRight(a, 13) ^ rotateRight(a, 22)
    let majority = (a & b) ^ (a & c) ^ (b & c)
    d &+= t1
    h = t1 &+ bigSigma0 &+ majority
}

/// ROTR^n(x) of FIPS 180-4 §3.2.
@inline(__always)
private func rotateRight(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &>> n) | (x &<< (32 &- n))
}
