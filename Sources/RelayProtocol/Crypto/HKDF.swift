/// HKDF with SHA-256 (RFC 5869): derives keys from input keying material in two steps, extract then expand.
///
/// `extract` (§2.2) concentrates the input keying material into a 32-byte pseudorandom key,
/// PRK = HMAC-SHA256(salt, IKM). `expand` (§2.3) stretches a PRK into `length` bytes of output keying material,
/// T(1) ‖ T(2) ‖ … with T(i) = HMAC-SHA256(PRK, T(i−1) ‖ info ‖ i) and T(0) empty. `deriveKey` does both.
/// `info` binds the output to its use (a protocol name, a direction, a session id), so that different uses of
/// one secret get unrelated keys.
///
/// Out-of-range arguments are preconditions: the lengths are the protocol's constants, not data.
public enum HKDF {
    /// The most output one PRK can expand to: 255 blocks of 32 bytes (§2.3, L ≤ 255·HashLen).
    public static let maximumLength = 255 * SHA256.byteCount

    /// The pseudorandom key extracted from `inputKeyMaterial` with `salt` (§2.2). An empty salt stands for the
    /// absent salt of the RFC, which is HashLen zero bytes.
    @inlinable
    public static func extract(salt: some Collection<UInt8>, inputKeyMaterial: some Collection<UInt8>) -> [UInt8] {
        salt.withCryptoBytes { salt in inputKeyMaterial.withCryptoBytes { extract(salt: salt, inputKeyMaterial: $0) } }
    }

    /// The pseudorandom key extracted from the bytes in `inputKeyMaterial` with the bytes in `salt` (§2.2).
    public static func extract(salt: UnsafeRawBufferPointer, inputKeyMaterial: UnsafeRawBufferPointer) -> [UInt8] {
        if salt.isEmpty {
            // "if not provided, [salt] is set to a string of HashLen zeros". HMAC pads an empty key with zeros
            // to the same block, so the result is the same either way; this follows the text literally.
            let zeros = [UInt8](repeating: 0, count: SHA256.byteCount)
            return zeros.withUnsafeBytes { HMACSHA256(key: $0).authenticationCode(for: inputKeyMaterial) }
        }
        return HMACSHA256(key: salt).authenticationCode(for: inputKeyMaterial)
    }

    /// `length` bytes of output keying material expanded from `pseudorandomKey` for `info` (§2.3).
    ///
    /// - Precondition: `pseudorandomKey` has at least 32 bytes (§2.3: "at least HashLen octets"), and `length` is
    ///   between 0 and `maximumLength`.
    @inlinable
    public static func expand(pseudorandomKey: some Collection<UInt8>, info: some Collection<UInt8>, length: Int)
        -> [UInt8]
    {
        pseudorandomKey.withCryptoBytes { key in
            info.withCryptoBytes { expand(pseudorandomKey: key, info: $0, length: length) }
        }
    }

    /// `length` bytes of output keying material expanded from the bytes in `pseudorandomKey` for those in `info`.
    public static func expand(pseudorandomKey: UnsafeRawBufferPointer, info: UnsafeRawBufferPointer, length: Int)
        -> [UInt8]
    {
        precondition(pseudorandomKey.count >= SHA256.byteCount,
                     "HKDF-Expand takes a pseudorandom key of at least 32 bytes, not \(pseudorandomKey.count)")
        precondition(length >= 0 && length <= maximumLength,
                     "HKDF-SHA256 output is 0 to \(maximumLength) bytes, not \(length)")
        let keyed = HMACSHA256(key: pseudorandomKey)
        var output = [UInt8]()
        output.reserveCapacity(length)
        var previous = [UInt8]()
        var counter: UInt8 = 1
        while output.count < length {
            var mac = keyed
            mac.update(previous)
            mac.update(info)
            mac.update(CollectionOfOne(counter))
            previous = mac.finalize()
            output.append(contentsOf: previous.prefix(length - output.count))
            counter &+= 1
        }
        return output
    }

    /// `length` bytes derived from `inputKeyMaterial`: `expand(extract(salt, inputKeyMaterial), info, length)`.
    @inlinable
    public static func deriveKey(
        inputKeyMaterial: some Collection<UInt8>, salt: some Collection<UInt8>, info: some Collection<UInt8>,
        length: Int
    ) -> [UInt8] {
        expand(pseudorandomKey: extract(salt: salt, inputKeyMaterial: inputKeyMaterial), info: info, length: length)
    }
}
