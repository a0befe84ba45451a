/// The 64-bit FNV-1a hash: turns a server's id into the seed of its virtual nodes on the hash ring.
///
/// Stable across runs and machines (unlike `Hasher`, which is seeded per process), so every relayd
/// reading the same config builds the same ring. FNV-1a alone spreads similar ids poorly, which is
/// why `HashRing` mixes its output before use.
struct FNV1a64 {
    static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// The hash of `bytes`.
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var value = offsetBasis
        for byte in bytes { value = (value ^ UInt64(byte)) &* prime }
        return value
    }
}
