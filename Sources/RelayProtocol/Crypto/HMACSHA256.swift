/// HMAC with SHA-256 (RFC 2104): a message authentication code under a secret key of any length.
///
/// RFC 2104 §2 computes H(K ⊕ opad ‖ H(K ⊕ ipad ‖ text)), where K is the key zero-padded to the 64-byte block
/// (or, when longer than a block, first hashed to 32 bytes and then padded), ipad is 0x36 repeated and opad 0x5c.
/// The key's two padded blocks do not depend on the message, so `init(key:)` absorbs each into its own SHA-256
/// state once (the precomputation §4 suggests) and a keyed value is then reused for any number of messages:
///
///     let cookies = HMACSHA256(key: secret)              // two compressions, once
///     let code = cookies.authenticationCode(for: packet) // per message: the message, plus two compressions
///
/// Being a value with no heap storage, a keyed instance copies for free and is safe to share between threads.
/// For a message that arrives in parts, copy it into a `var`, `update` it, and `finalize` it.
public struct HMACSHA256: Sendable {
    /// The length of an authentication code in bytes (that of a SHA-256 digest).
    public static let byteCount = 32

    /// SHA-256 after absorbing K ⊕ ipad, then any message bytes given to `update`.
    private var inner = SHA256()
    /// SHA-256 after absorbing K ⊕ opad; untouched until `finalize`, which works on a copy.
    private var outer = SHA256()

    /// A MAC keyed with `key`, which may have any length (RFC 2104 §3 discourages fewer than 32 bytes).
    @inlinable
    public init(key: some Collection<UInt8>) {
        self = key.withCryptoBytes { HMACSHA256(key: $0) }
    }

    /// A MAC keyed with the bytes in `key`.
    public init(key: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(byteCount: SHA256.blockByteCount, alignment: 8) { block in
            block.initializeMemory(as: UInt8.self, repeating: 0)
            if key.count > SHA256.blockByteCount {
                var hasher = SHA256()
                hasher.update(key)
                hasher.finalize(into: block)
            } else if let base = key.baseAddress {
                block.baseAddress!.copyMemory(from: base, byteCount: key.count)
            }
            for index in 0..<SHA256.blockByteCount {
                block[index] ^= 0x36
            }
            inner.update(UnsafeRawBufferPointer(block))
            // K ⊕ opad from K ⊕ ipad, without keeping K itself around.
            for index in 0..<SHA256.blockByteCount {
                block[index] ^= 0x36 ^ 0x5c
            }
            outer.update(UnsafeRawBufferPointer(block))
        }
    }

    /// The authentication code of `message` under `key`.
    @inlinable
    public static func authenticationCode(key: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        HMACSHA256(key: key).authenticationCode(for: message)
    }

    /// The authentication code of `message` under this value's key, reusing its precomputed pads. Bytes given to
    /// `update` before are not included: this starts from the key alone.
    @inlinable
    public func authenticationCode(for message: some Collection<UInt8>) -> [UInt8] {
        message.withCryptoBytes { authenticationCode(for: $0) }
    }

    /// The authentication code of the bytes in `message` under this value's key.
    public func authenticationCode(for message: UnsafeRawBufferPointer) -> [UInt8] {
        var mac = self
        mac.update(message)
        return mac.finalize()
    }

    /// Whether `code` is the full 32-byte authentication code of `message` under this value's key, compared in
    /// constant time. A code of any other length is refused.
    @inlinable
    public func isValidAuthenticationCode(_ code: some Collection<UInt8>, for message: some Collection<UInt8>)
        -> Bool
    {
        code.withCryptoBytes { code in message.withCryptoBytes { isValidAuthenticationCode(code, for: $0) } }
    }

    /// Whether the bytes in `code` are the authentication code of the bytes in `message`, in constant time.
    public func isValidAuthenticationCode(_ code: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer)
        -> Bool
    {
        var mac = self
        mac.update(message)
        return withUnsafeTemporaryAllocation(byteCount: Self.byteCount, alignment: 8) { expected in
            mac.finalize(into: expected)
            return ConstantTime.equal(UnsafeRawBufferPointer(expected), code)
        }
    }

    /// Appends `bytes` to the message.
    @inlinable
    public mutating func update(_ bytes: some Collection<UInt8>) {
        bytes.withCryptoBytes { update($0) }
    }

    /// Appends the bytes in `bytes` to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        inner.update(bytes)
    }

    /// The authentication code of everything appended so far. The value is left as it was.
    public func finalize() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.byteCount) { buffer, initialized in
            finalize(into: UnsafeMutableRawBufferPointer(buffer))
            initialized = Self.byteCount
        }
    }

    /// Writes the authentication code of everything appended so far to the first 32 bytes of `output`,
    /// allocating nothing.
    public func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= Self.byteCount, "an HMAC-SHA256 code needs 32 bytes, not \(output.count)")
        var outer = self.outer
        withUnsafeTemporaryAllocation(byteCount: SHA256.byteCount, alignment: 8) { innerDigest in
            inner.finalize(into: innerDigest)
            outer.update(UnsafeRawBufferPointer(innerDigest))
        }
        outer.finalize(into: output)
    }
}
