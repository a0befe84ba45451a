/// The cryptographic primitives reliable UDP is built on, behind one small interface.
///
/// The protocol needs SHA-256, HMAC-SHA256 (RFC 2104), HKDF-SHA256 (RFC 5869), ChaCha20-Poly1305 (RFC 8439)
/// and a constant-time comparison. Handshakes and sessions take them through this protocol, so the state
/// machines are tested and fuzzed the same way whichever implementation is plugged in, and plugging the
/// module's own `Crypto/` in is one conforming type.
public protocol ReliableCryptography: Sendable {
    /// SHA-256 of `message`: 32 bytes.
    func sha256(_ message: [UInt8]) -> [UInt8]
    /// HMAC-SHA256 of `message` under `key`: 32 bytes.
    func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8]
    /// HKDF-SHA256 extract-then-expand: `outputCount` bytes from `inputKey`, `salt` and `info`.
    func hkdfSHA256(inputKey: [UInt8], salt: [UInt8], info: [UInt8], outputCount: Int) -> [UInt8]
    /// ChaCha20-Poly1305 under a 32-byte key.
    func aead(key: [UInt8]) -> any ReliableAEAD
    /// True when `a` and `b` are equal, in time that depends only on their lengths.
    func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool
}

/// An AEAD under one key, working in place on a whole packet: `associatedCount` bytes of associated data (the
/// header), then the payload, then `ReliableWire.tagSize` bytes for the tag.
public protocol ReliableAEAD: Sendable {
    /// Encrypts the payload in place and writes the tag over the last 16 bytes.
    func seal(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8])
    /// Verifies the tag over the associated data and the ciphertext; if it holds, decrypts the payload in place
    /// and returns true. On false the packet is left as it was.
    func open(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8]) -> Bool
    /// Writes over the last 16 bytes the tag of the AEAD with an empty plaintext and everything before the tag
    /// as associated data: authentication without encryption.
    func authenticate(_ packet: inout [UInt8], nonce: [UInt8])
    /// True when the last 16 bytes are the tag `authenticate` would write.
    func verify(_ packet: [UInt8], nonce: [UInt8]) -> Bool
}
