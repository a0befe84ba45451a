/// Byte comparisons whose running time depends on the inputs' lengths only, never on their contents.
///
/// RFC 8439 §4 requires that a received tag be compared in constant time: a comparison that stops at the first
/// differing byte tells an attacker, through its timing, how long a prefix of a forged tag is right, and lets
/// them find a valid tag a byte at a time. Every tag and MAC check in this module goes through `equal`.
///
/// The loop ORs together the XOR of every byte pair and looks at the result once, after the last byte; there
/// is no early exit for the optimiser to find. Swift has no compiler barrier to pin that down further, so the
/// guarantee is the one the C idiom gives, not a proof.
public enum ConstantTime {
    /// Whether `a` and `b` hold the same bytes. Inputs of different lengths are unequal at once: only the
    /// lengths, which are public in every protocol here, leak through timing.
    @inlinable
    public static func equal(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        a.withCryptoBytes { a in b.withCryptoBytes { b in equal(a, b) } }
    }

    /// Whether the two buffers hold the same bytes, in time that depends only on their lengths.
    public static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in 0..<a.count {
            difference |= a[index] ^ b[index]
        }
        return difference == 0
    }
}
