/// The reliable-UDP protocol's primitives from this module's own `Crypto/`: SHA-256 (FIPS 180-4), HMAC-SHA256
/// (RFC 2104), HKDF-SHA256 (RFC 5869) and ChaCha20-Poly1305 (RFC 8439). What the listener and the client use;
/// the state machines see only `ReliableCryptography`.
public struct ReliableStandardCryptography: ReliableCryptography {
    /// The standard primitives.
    public init() {}

    /// `SHA256.hash`.
    public func sha256(_ message: [UInt8]) -> [UInt8] {
        SHA256.hash(message)
    }

    /// `HMACSHA256.authenticationCode`.
    public func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticationCode(key: key, message: message)
    }

    /// `HKDF.deriveKey`: extract, then expand.
    public func hkdfSHA256(inputKey: [UInt8], salt: [UInt8], info: [UInt8], outputCount: Int) -> [UInt8] {
        HKDF.deriveKey(inputKeyMaterial: inputKey, salt: salt, info: info, length: outputCount)
    }

    /// `ChaCha20Poly1305` under `key`, working in place on packets.
    public func aead(key: [UInt8]) -> any ReliableAEAD {
        ReliableChaCha20Poly1305(key: key)
    }

    /// `ConstantTime.equal`.
    public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        ConstantTime.equal(a, b)
    }
}
