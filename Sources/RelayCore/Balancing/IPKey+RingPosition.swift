import RelayIO

extension IPKey {
    /// Where this client sits on a consistent-hash ring: the address fully mixed to 64 bits.
    ///
    /// Clients of one subnet differ only in their last bits; a hash that does not avalanche (FNV-1a,
    /// as before) keeps such neighbours close together, so they all fall on one short arc of the ring
    /// and one server. Every input bit must flip about half the output bits, as HAProxy's
    /// `hash-type consistent avalanche` does for its keys; `SplitMix64.mix` does that for 64 bits,
    /// and IPv6's two halves go through it one after the other, so a change in either moves the key
    /// anywhere. The address is read as a number in network order, so the position is the same on any
    /// machine.
    var ringPosition: UInt64 {
        // IPKey keeps the address bytes in memory order (IPv4 as `s_addr`'s value, IPv6 as two native
        // loads), so a big-endian reading of those integers gives the address as written.
        if isIPv6 {
            return SplitMix64.mix(SplitMix64.mix(UInt64(bigEndian: high)) ^ UInt64(bigEndian: low))
        }
        return SplitMix64.mix(UInt64(UInt32(bigEndian: UInt32(truncatingIfNeeded: low))))
    }
}
