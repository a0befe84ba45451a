/// The ChaCha20 stream cipher of RFC 8439: the block function (§2.3) and the encryption built on it (§2.4).
///
/// The state is four constant words, the 256-bit key as eight little-endian words, a 32-bit block counter and the
/// 96-bit nonce as three little-endian words (§2.3). Twenty rounds (ten column-and-diagonal double rounds) of
/// quarter rounds (§2.1) mix it; adding the input state back and serialising the words little-endian gives a
/// 64-byte keystream block. Encryption XORs the plaintext with the blocks for counter, counter + 1, … and drops
/// the unused end of the last block (§2.4); decryption is the same operation.
///
/// A (key, nonce) pair must never encrypt twice: RFC 8439 §4 explains that a repeat reveals the XOR of the two
/// plaintexts. The counter is 32 bits, so one call covers at most 2^32 blocks (256 GiB) from its starting
/// counter; running past the last counter is a precondition failure, not a silent wrap into reused keystream.
///
/// Key and nonce lengths (32 and 12 bytes) are preconditions: they are fixed by the RFC, so a wrong length is a
/// bug in the caller, and code that takes a key from a file or a nonce from a packet checks it there, where it
/// can say which field was wrong.
///
/// Encryption works in the caller's buffer with no allocation. Four blocks at a time run as one block function
/// over `SIMD4<UInt32>` lanes (one state per lane), which on x86-64's baseline SSE2 is about twice as fast as one
/// block at a time; what is left after the last group of four takes one more such pass over a stack copy, or a
/// single scalar block when it fits in one.
public struct ChaCha20: Sendable {
    /// The key length in bytes (256 bits).
    public static let keyByteCount = 32
    /// The nonce length in bytes (96 bits).
    public static let nonceByteCount = 12
    /// The length of one keystream block in bytes.
    public static let blockByteCount = 64

    /// The key as state words 4…11: its bytes read little-endian in 4-byte chunks (§2.3).
    private let key: KeyWords

    /// A cipher under the 32-byte `key`.
    @inlinable
    public init(key: some Collection<UInt8>) {
        self = key.withCryptoBytes { ChaCha20(key: $0) }
    }

    /// A cipher under the 32 bytes in `key`.
    public init(key: UnsafeRawBufferPointer) {
        precondition(key.count == Self.keyByteCount,
                     "ChaCha20 takes a 32-byte key (RFC 8439 §2.3), not \(key.count) bytes")
        func word(_ index: Int) -> UInt32 {
            UInt32(littleEndian: key.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self))
        }
        self.key = KeyWords(word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7))
    }

    /// The 64 bytes of the block function (§2.3) for `counter` and the 12-byte `nonce`.
    @inlinable
    public func block(counter: UInt32, nonce: some Collection<UInt8>) -> [UInt8] {
        nonce.withCryptoBytes { block(counter: counter, nonce: $0) }
    }

    /// The 64 bytes of the block function (§2.3) for `counter` and the 12 bytes in `nonce`.
    public func block(counter: UInt32, nonce: UnsafeRawBufferPointer) -> [UInt8] {
        let nonce = Nonce(nonce)
        return [UInt8](unsafeUninitializedCapacity: Self.blockByteCount) { buffer, initialized in
            writeBlock(counter: counter, nonce: nonce, into: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = Self.blockByteCount
        }
    }

    /// `bytes` encrypted (or decrypted) with the keystream that starts at block `counter` for the 12-byte `nonce`.
    @inlinable
    public func encrypt(_ bytes: some Collection<UInt8>, counter: UInt32, nonce: some Collection<UInt8>) -> [UInt8] {
        var output = Array(bytes)
        output.withUnsafeMutableBytes { output in
            nonce.withCryptoBytes { encrypt(inPlace: output, counter: counter, nonce: $0) }
        }
        return output
    }

    /// Encrypts (or decrypts) `buffer` in place with the keystream that starts at block `counter` for `nonce`.
    @inlinable
    public func encrypt(inPlace buffer: UnsafeMutableRawBufferPointer, counter: UInt32, nonce: some Collection<UInt8>) {
        nonce.withCryptoBytes { encrypt(inPlace: buffer, counter: counter, nonce: $0) }
    }

    /// Encrypts (or decrypts) `buffer` in place with the keystream that starts at block `counter` for the 12 bytes
    /// in `nonce`.
    public func encrypt(inPlace buffer: UnsafeMutableRawBufferPointer, counter: UInt32, nonce: UnsafeRawBufferPointer) {
        let nonce = Nonce(nonce)
        guard let base = buffer.baseAddress else { return }
        encrypt(base, count: buffer.count, counter: counter, nonce: nonce)
    }
}

extension ChaCha20 {
    /// The 256-bit key as eight words.
    struct KeyWords {
        let k0, k1, k2, k3, k4, k5, k6, k7: UInt32

        init(_ k0: UInt32, _ k1: UInt32, _ k2: UInt32, _ k3: UInt32,
             _ k4: UInt32, _ k5: UInt32, _ k6: UInt32, _ k7: UInt32) {
            (self.k0, self.k1, self.k2, self.k3, self.k4, self.k5, self.k6, self.k7) = (k0, k1, k2, k3, k4, k5, k6, k7)
        }
    }

    /// The 96-bit nonce as state words 13…15 (§2.3).
    struct Nonce {
        let n0, n1, n2: UInt32

        /// The nonce in `bytes`, which must be 12 bytes long.
        init(_ bytes: UnsafeRawBufferPointer) {
            precondition(bytes.count == ChaCha20.nonceByteCount,
                         "ChaCha20 takes a 12-byte nonce (RFC 8439 §2.3), not \(bytes.count) bytes")
            n0 = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            n1 = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            n2 = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        }
    }

    /// Sixteen words, laid out contiguously: one serialised keystream block.
    typealias BlockWords = (
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32,
        UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32
    )

    /// Writes the 64-byte block for `counter` and `nonce` to `output`.
    func writeBlock(counter: UInt32, nonce: Nonce, into output: UnsafeMutableRawPointer) {
        var words = keystreamBlock(counter: counter, nonce: nonce)
        withUnsafeBytes(of: &words) { output.copyMemory(from: $0.baseAddress!, byteCount: ChaCha20.blockByteCount) }
    }

    /// XORs `count` bytes at `bytes` with the keystream from block `counter` on (§2.4).
    func encrypt(_ bytes: UnsafeMutableRawPointer, count: Int, counter: UInt32, nonce: Nonce) {
        let blocks = (count + ChaCha20.blockByteCount - 1) / ChaCha20.blockByteCount
        precondition(UInt64(counter) + UInt64(blocks) <= 1 << 32,
                     "ChaCha20 would run past block counter 2^32 - 1 (RFC 8439 §2.4: 2^32 blocks per nonce)")
        var counter = counter
        var offset = 0
        while count - offset >= 4 * ChaCha20.blockByteCount {
            encryptFourBlocks(bytes + offset, counter: counter, nonce: nonce)
            offset += 4 * ChaCha20.blockByteCount
            counter &+= 4
        }
        let remaining = count - offset
        if remaining > ChaCha20.blockByteCount {
            // Two to four blocks left: one four-block pass over a copy costs less than up to four single blocks.
            // Lanes past the last needed block may wrap the counter; their keystream is never used.
            withUnsafeTemporaryAllocation(byteCount: 4 * ChaCha20.blockByteCount, alignment: 16) { scratch in
                let scratch = scratch.baseAddress!
                // Zero the unused end too: the vector loads read it, and reading uninitialised memory is undefined.
                scratch.initializeMemory(as: UInt8.self, repeating: 0, count: 4 * ChaCha20.blockByteCount)
                scratch.copyMemory(from: bytes + offset, byteCount: remaining)
                encryptFourBlocks(scratch, counter: counter, nonce: nonce)
                (bytes + offset).copyMemory(from: scratch, byteCount: remaining)
            }
        } else if remaining > 0 {
            var words = keystreamBlock(counter: counter, nonce: nonce)
            withUnsafeBytes(of: &words) { keystream in
                let target = (bytes + offset).assumingMemoryBound(to: UInt8.self)
                for index in 0..<remaining {
                    target[index] ^= keystream[index]
                }
            }
        }
    }

    /// The block function of §2.3: twenty rounds over the state, the input state added back, each word stored
    /// little-endian.
    @inline(__always)
    func keystreamBlock(counter: UInt32, nonce: Nonce) -> BlockWords {
        let c0: UInt32 = 0x6170_7865, c1: UInt32 = 0x3320_646e, c2: UInt32 = 0x7962_2d32, c3: UInt32 = 0x6b20_6574
        var x0 = c0, x1 = c1, x2 = c2, x3 = c3
        var x4 = key.k0, x5 = key.k1, x6 = key.k2, x7 = key.k3
        var x8 = key.k4, x9 = key.k5, x10 = key.k6, x11 = key.k7
        var x12 = counter, x13 = nonce.n0, x14 = nonce.n1, x15 = nonce.n2
        for _ in 0..<10 {
            // A column round, then a diagonal round (§2.3).
            quarterRound(&x0, &x4, &x8, &x12)
            quarterRound(&x1, &x5, &x9, &x13)
            quarterRound(&x2, &x6, &x10, &x14)
            quarterRound(&x3, &x7, &x11, &x15)
            quarterRound(&x0, &x5, &x10, &x15)
            quarterRound(&x1, &x6, &x11, &x12)
            quarterRound(&x2, &x7, &x8, &x13)
            quarterRound(&x3, &x4, &x9, &x14)
        }
        return (
            (x0 &+ c0).littleEndian, (x1 &+ c1).littleEndian, (x2 &+ c2).littleEndian, (x3 &+ c3).littleEndian,
            (x4 &+ key.k0).littleEndian, (x5 &+ key.k1).littleEndian,
            (x6 &+ key.k2).littleEndian, (x7 &+ key.k3).littleEndian,
            (x8 &+ key.k4).littleEndian, (x9 &+ key.k5).littleEndian,
            (x10 &+ key.k6).littleEndian, (x11 &+ key.k7).littleEndian,
            (x12 &+ counter).littleEndian, (x13 &+ nonce.n0).littleEndian,
            (x14 &+ nonce.n1).littleEndian, (x15 &+ nonce.n2).littleEndian
        )
    }
}

extension ChaCha20 {
    /// XORs the 256 bytes at `bytes` with the keystream blocks for `counter` … `counter + 3`: the block function
    /// of §2.3 run on four states at once, one per SIMD lane, so that each quarter-round step is one vector
    /// operation for four blocks.
    @inline(__always)
    func encryptFourBlocks(_ bytes: UnsafeMutableRawPointer, counter: UInt32, nonce: Nonce) {
        typealias Lanes = SIMD4<UInt32>
        let c0 = Lanes(repeating: 0x6170_7865), c1 = Lanes(repeating: 0x3320_646e)
        let c2 = Lanes(repeating: 0x7962_2d32), c3 = Lanes(repeating: 0x6b20_6574)
        let k0 = Lanes(repeating: key.k0), k1 = Lanes(repeating: key.k1)
        let k2 = Lanes(repeating: key.k2), k3 = Lanes(repeating: key.k3)
        let k4 = Lanes(repeating: key.k4), k5 = Lanes(repeating: key.k5)
        let k6 = Lanes(repeating: key.k6), k7 = Lanes(repeating: key.k7)
        let counters = Lanes(counter, counter &+ 1, counter &+ 2, counter &+ 3)
        let n0 = Lanes(repeating: nonce.n0), n1 = Lanes(repeating: nonce.n1), n2 = Lanes(repeating: nonce.n2)
        var x0 = c0, x1 = c1, x2 = c2, x3 = c3, x4 = k0, x5 = k1, x6 = k2, x7 = k3
        var x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = counters, x13 = n0, x14 = n1, x15 = n2
        for _ in 0..<10 {
            quarterRound(&x0, &x4, &x8, &x12)
            quarterRound(&x1, &x5, &x9, &x13)
            quarterRound(&x2, &x6, &x10, &x14)
            quarterRound(&x3, &x7, &x11, &x15)
            quarterRound(&x0, &x5, &x10, &x15)
            quarterRound(&x1, &x6, &x11, &x12)
            quarterRound(&x2, &x7, &x8, &x13)
            quarterRound(&x3, &x4, &x9, &x14)
        }
        x0 &+= c0; x1 &+= c1; x2 &+= c2; x3 &+= c3
        x4 &+= k0; x5 &+= k1; x6 &+= k2; x7 &+= k3
        x8 &+= k4; x9 &+= k5; x10 &+= k6; x11 &+= k7
        x12 &+= counters; x13 &+= n0; x14 &+= n1; x15 &+= n2
        // Lane j of x(i) is word i of block j: transpose each group of four words into the 16 bytes they
        // cover in each block.
        xorTransposed(bytes, at: 0, x0, x1, x2, x3)
        xorTransposed(bytes, at: 16, x4, x5, x6, x7)
        xorTransposed(bytes, at: 32, x8, x9, x10, x11)
        xorTransposed(bytes, at: 48, x12, x13, x14, x15)
    }
}

/// XORs, for each block j of four consecutive 64-byte blocks at `bytes`, the 16 bytes at `offset` with lane j of
/// `a`, `b`, `c` and `d`, stored little-endian in that order.
@inline(__always)
private func xorTransposed(
    _ bytes: UnsafeMutableRawPointer, at offset: Int,
    _ a: SIMD4<UInt32>, _ b: SIMD4<UInt32>, _ c: SIMD4<UInt32>, _ d: SIMD4<UInt32>
) {
    for lane in 0..<4 {
        let words = SIMD4<UInt32>(a[lane].littleEndian, b[lane].littleEndian, c[lane].littleEndian,
                                  d[lane].littleEndian)
        let target = bytes + lane * ChaCha20.blockByteCount + offset
        target.storeBytes(of: target.loadUnaligned(as: SIMD4<UInt32>.self) ^ words, as: SIMD4<UInt32>.self)
    }
}

/// The quarter round of §2.1 on four states at once, one per lane.
@inline(__always)
private func quarterRound(
    _ a: inout SIMD4<UInt32>, _ b: inout SIMD4<UInt32>, _ c: inout SIMD4<UInt32>, _ d: inout SIMD4<UInt32>
) {
    a &+= b; d ^= a; d = rotateLeft(d, 16)
    c &+= d; b ^= c; b = rotateLeft(b, 12)
    a &+= b; d ^= a; d = rotateLeft(d, 8)
    c &+= d; b ^= c; b = rotateLeft(b, 7)
}

/// x <<< n in each lane. The two shifted halves share no bits, so adding them is the same as OR-ing them; with
/// OR, LLVM (Swift 6.3) turns the pair into a vector rotate that SSE2 lacks and then splits it into four scalar
/// rotates, which made the four-block path slower than one block at a time. With `&+` it stays two shifts and
/// an add on the whole vector.
@inline(__always)
private func rotateLeft(_ x: SIMD4<UInt32>, _ n: UInt32) -> SIMD4<UInt32> {
    (x &<< n) &+ (x &>> (32 &- n))
}

/// The quarter round of RFC 8439 §2.1.
@inline(__always)
private func quarterRound(_ a: inout UInt32, _ b: inout UInt32, _ c: inout UInt32, _ d: inout UInt32) {
    a &+= b; d ^= a; d = rotateLeft(d, 16)
    c &+= d; b ^= c; b = rotateLeft(b, 12)
    a &+= b; d ^= a; d = rotateLeft(d, 8)
    c &+= d; b ^= c; b = rotateLeft(b, 7)
}

/// x <<< n: a left rotation (§2.1).
@inline(__always)
private func rotateLeft(_ x: UInt32, _ n: UInt32) -> UInt32 {
    (x &<< n) | (x &>> (32 &- n))
}
