/// AEAD_CHACHA20_POLY1305 of RFC 8439 §2.8: authenticated encryption with additional data under a 32-byte key
/// and a 12-byte nonce, with a 16-byte tag.
///
/// For each nonce, the first ChaCha20 block (counter 0) gives the Poly1305 one-time key (§2.6); the plaintext is
/// encrypted with ChaCha20 from counter 1 (§2.4); the tag is Poly1305 over
/// AAD ‖ pad16(AAD) ‖ ciphertext ‖ pad16(ciphertext) ‖ len(AAD) ‖ len(ciphertext), the lengths as 64-bit
/// little-endian numbers. `open` computes the tag over what it received, compares it with the received tag in
/// constant time (`ConstantTime.equal`, as §4 requires), and decrypts only when they match: a forged packet
/// releases no plaintext, not even into the caller's buffer.
///
/// Authentication without encryption (`authenticateOnly`) is this same AEAD with an empty plaintext and the
/// message as the additional data: the tag is Poly1305, under the one-time key §2.6 derives from (key, nonce),
/// over message ‖ pad16(message) ‖ len(message) ‖ 0. Nothing new is built; it is what `seal` returns for an
/// empty plaintext, and any RFC 8439 implementation verifies it with `open(tag, aad: message)`.
///
/// A nonce must never be used twice under one key: a repeat reveals the XOR of the plaintexts and the one-time
/// Poly1305 key (§4). Derive nonces from a counter (for example 4 fixed bytes and a 64-bit packet number, as
/// §2.6 suggests for several senders), never at random.
///
/// Lengths: the key is 32 bytes and the nonce 12, as preconditions (fixed by the RFC, so a wrong length is a bug
/// in the caller; code that reads a key from a file or a nonce from a packet checks it there). Plaintexts are
/// limited to 2^32 − 1 blocks of 64 bytes (P_MAX, about 256 GiB), also a precondition.
///
/// The in-place variants work on the caller's buffers and allocate nothing, for per-packet use; the other
/// methods return new arrays. Keys live in ordinary values, which Swift may copy, so nothing here can promise to
/// wipe key material from memory.
public struct ChaCha20Poly1305: Sendable {
    /// The key length in bytes (K_LEN, §2.8).
    public static let keyByteCount = 32
    /// The nonce length in bytes (N_MIN = N_MAX, §2.8).
    public static let nonceByteCount = 12
    /// The tag length in bytes. Tags must not be truncated (§4).
    public static let tagByteCount = 16

    /// ChaCha20 under the AEAD key: it makes the one-time Poly1305 keys and the keystream.
    private let cipher: ChaCha20

    /// An AEAD under the 32-byte `key`.
    @inlinable
    public init(key: some Collection<UInt8>) {
        self = key.withCryptoBytes { ChaCha20Poly1305(key: $0) }
    }

    /// An AEAD under the 32 bytes in `key`.
    public init(key: UnsafeRawBufferPointer) {
        precondition(key.count == Self.keyByteCount,
                     "ChaCha20-Poly1305 takes a 32-byte key (RFC 8439 §2.8), not \(key.count) bytes")
        cipher = ChaCha20(key: key)
    }

    /// The ciphertext of `plaintext` followed by the 16-byte tag that authenticates it and `aad`.
    @inlinable
    public func seal(nonce: some Collection<UInt8>, plaintext: some Collection<UInt8>,
                     authenticating aad: some Collection<UInt8>) -> [UInt8] {
        nonce.withCryptoBytes { nonce in
            plaintext.withCryptoBytes { plaintext in
                aad.withCryptoBytes { seal(nonce: nonce, plaintext: plaintext, authenticating: $0) }
            }
        }
    }

    /// The ciphertext of the bytes in `plaintext` followed by the tag that authenticates them and `aad`.
    public func seal(nonce: UnsafeRawBufferPointer, plaintext: UnsafeRawBufferPointer,
                     authenticating aad: UnsafeRawBufferPointer) -> [UInt8] {
        let nonce = ChaCha20.Nonce(nonce)
        let count = plaintext.count
        return [UInt8](unsafeUninitializedCapacity: count + Self.tagByteCount) { buffer, initialized in
            let output = UnsafeMutableRawBufferPointer(buffer)
            if let base = plaintext.baseAddress, count > 0 {
                output.baseAddress!.copyMemory(from: base, byteCount: count)
            }
            seal(nonce: nonce, text: UnsafeMutableRawBufferPointer(rebasing: output[..<count]), aad: aad,
                 tag: output.baseAddress! + count)
            initialized = count + Self.tagByteCount
        }
    }

    /// The plaintext of `sealed` (a ciphertext followed by its 16-byte tag, as `seal` returns it), or nil when the
    /// tag does not authenticate it, the nonce and `aad`, or when `sealed` is shorter than a tag.
    @inlinable
    public func open(nonce: some Collection<UInt8>, sealed: some Collection<UInt8>,
                     authenticating aad: some Collection<UInt8>) -> [UInt8]? {
        nonce.withCryptoBytes { nonce in
            sealed.withCryptoBytes { sealed in
                aad.withCryptoBytes { open(nonce: nonce, sealed: sealed, authenticating: $0) }
            }
        }
    }

    /// The plaintext of the ciphertext and tag in `sealed`, or nil when the tag does not match.
    public func open(nonce: UnsafeRawBufferPointer, sealed: UnsafeRawBufferPointer,
                     authenticating aad: UnsafeRawBufferPointer) -> [UInt8]? {
        let nonce = ChaCha20.Nonce(nonce)
        guard sealed.count >= Self.tagByteCount else { return nil }
        let count = sealed.count - Self.tagByteCount
        let ciphertext = UnsafeRawBufferPointer(rebasing: sealed[..<count])
        let tag = UnsafeRawBufferPointer(rebasing: sealed[count...])
        var authenticator = oneTimeAuthenticator(nonce: nonce)
        guard authenticator.matches(tag: tag, aad: aad, ciphertext: ciphertext) else { return nil }
        var plaintext = [UInt8](ciphertext)
        plaintext.withUnsafeMutableBytes { plaintext in
            if let base = plaintext.baseAddress {
                cipher.encrypt(base, count: count, counter: 1, nonce: nonce)
            }
        }
        return plaintext
    }

    /// Encrypts `text` in place and writes the 16-byte tag that authenticates it and `aad` to `tag`; allocates
    /// nothing. `text`, `aad` and `tag` must not overlap.
    @inlinable
    public func seal(nonce: some Collection<UInt8>, inPlace text: UnsafeMutableRawBufferPointer,
                     authenticating aad: some Collection<UInt8>, tag: UnsafeMutableRawBufferPointer) {
        nonce.withCryptoBytes { nonce in
            aad.withCryptoBytes { seal(nonce: nonce, inPlace: text, authenticating: $0, tag: tag) }
        }
    }

    /// Encrypts `text` in place and writes its tag to the 16 bytes of `tag`.
    public func seal(nonce: UnsafeRawBufferPointer, inPlace text: UnsafeMutableRawBufferPointer,
                     authenticating aad: UnsafeRawBufferPointer, tag: UnsafeMutableRawBufferPointer) {
        precondition(tag.count == Self.tagByteCount, "the tag buffer holds 16 bytes, not \(tag.count)")
        seal(nonce: ChaCha20.Nonce(nonce), text: text, aad: aad, tag: tag.baseAddress!)
    }

    /// Checks `tag` against the ciphertext in `text` and `aad`, in constant time; when it matches, decrypts `text`
    /// in place and returns true, and otherwise returns false with `text` untouched. Allocates nothing. `text`
    /// must not overlap `aad` or `tag`.
    @inlinable
    public func open(nonce: some Collection<UInt8>, inPlace text: UnsafeMutableRawBufferPointer,
                     authenticating aad: some Collection<UInt8>, tag: some Collection<UInt8>) -> Bool {
        nonce.withCryptoBytes { nonce in
            aad.withCryptoBytes { aad in
                tag.withCryptoBytes { open(nonce: nonce, inPlace: text, authenticating: aad, tag: $0) }
            }
        }
    }

    /// Checks `tag` against `text` and `aad`; on a match decrypts `text` in place and returns true.
    public func open(nonce: UnsafeRawBufferPointer, inPlace text: UnsafeMutableRawBufferPointer,
                     authenticating aad: UnsafeRawBufferPointer, tag: UnsafeRawBufferPointer) -> Bool {
        let nonce = ChaCha20.Nonce(nonce)
        var authenticator = oneTimeAuthenticator(nonce: nonce)
        guard authenticator.matches(tag: tag, aad: aad, ciphertext: UnsafeRawBufferPointer(text)) else {
            return false
        }
        if let base = text.baseAddress {
            cipher.encrypt(base, count: text.count, counter: 1, nonce: nonce)
        }
        return true
    }

    /// The 16-byte tag that authenticates `message` without encrypting it: `seal` with an empty plaintext and
    /// `message` as the additional data (see the type's documentation).
    @inlinable
    public func authenticateOnly(nonce: some Collection<UInt8>, message: some Collection<UInt8>) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.tagByteCount) { buffer, initialized in
            authenticateOnly(nonce: nonce, message: message, tag: UnsafeMutableRawBufferPointer(buffer))
            initialized = Self.tagByteCount
        }
    }

    /// Writes the tag that authenticates `message` without encrypting it to the 16 bytes of `tag`; allocates
    /// nothing.
    @inlinable
    public func authenticateOnly(nonce: some Collection<UInt8>, message: some Collection<UInt8>,
                                 tag: UnsafeMutableRawBufferPointer) {
        nonce.withCryptoBytes { nonce in
            message.withCryptoBytes { authenticateOnly(nonce: nonce, message: $0, tag: tag) }
        }
    }

    /// Writes the authenticate-only tag of the bytes in `message` to the 16 bytes of `tag`.
    public func authenticateOnly(nonce: UnsafeRawBufferPointer, message: UnsafeRawBufferPointer,
                                 tag: UnsafeMutableRawBufferPointer) {
        precondition(tag.count == Self.tagByteCount, "the tag buffer holds 16 bytes, not \(tag.count)")
        seal(nonce: ChaCha20.Nonce(nonce), text: UnsafeMutableRawBufferPointer(start: nil, count: 0), aad: message,
             tag: tag.baseAddress!)
    }

    /// Whether `tag` is the authenticate-only tag of `message` for `nonce`, compared in constant time: `open` with
    /// an empty ciphertext and `message` as the additional data. Allocates nothing for contiguous inputs.
    @inlinable
    public func verifyAuthenticateOnly(tag: some Collection<UInt8>, nonce: some Collection<UInt8>,
                                       message: some Collection<UInt8>) -> Bool {
        tag.withCryptoBytes { tag in
            nonce.withCryptoBytes { nonce in
                message.withCryptoBytes { verifyAuthenticateOnly(tag: tag, nonce: nonce, message: $0) }
            }
        }
    }

    /// Whether the bytes in `tag` are the authenticate-only tag of the bytes in `message` for `nonce`.
    public func verifyAuthenticateOnly(tag: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer,
                                       message: UnsafeRawBufferPointer) -> Bool {
        var authenticator = oneTimeAuthenticator(nonce: ChaCha20.Nonce(nonce))
        return authenticator.matches(tag: tag, aad: message, ciphertext: UnsafeRawBufferPointer(start: nil, count: 0))
    }
}

extension ChaCha20Poly1305 {
    /// Poly1305 under the one-time key of §2.6: the first 32 bytes of the ChaCha20 block for counter 0 and
    /// `nonce`; the other 32 are discarded.
    func oneTimeAuthenticator(nonce: ChaCha20.Nonce) -> Poly1305 {
        var block: ChaCha20.BlockWords = cipher.keystreamBlock(counter: 0, nonce: nonce)
        return withUnsafeBytes(of: &block) { Poly1305(key: UnsafeRawBufferPointer(rebasing: $0[..<32])) }
    }

    /// The AEAD encryption of §2.8: encrypts `text` in place from counter 1, then writes the tag over `aad` and
    /// the ciphertext to the 16 bytes at `tag`.
    func seal(nonce: ChaCha20.Nonce, text: UnsafeMutableRawBufferPointer, aad: UnsafeRawBufferPointer,
              tag: UnsafeMutableRawPointer) {
        var authenticator = oneTimeAuthenticator(nonce: nonce)
        if let base = text.baseAddress {
            cipher.encrypt(base, count: text.count, counter: 1, nonce: nonce)
        }
        authenticator.absorbPadded(aad)
        authenticator.absorbPadded(UnsafeRawBufferPointer(text))
        authenticator.absorbLengths(aad.count, text.count)
        authenticator.writeTag(into: tag)
    }
}
