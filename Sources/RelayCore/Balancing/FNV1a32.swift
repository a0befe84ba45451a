import RelayIO

/// The 32-bit FNV-1a hash, fed byte by byte: the hash of the consistent-hash ring.
///
/// Streaming, so a ring build can hash a server's id once and then only the `#i` suffix of each
/// virtual node, without formatting a string per node.
struct FNV1a32 {
    static let offsetBasis: UInt32 = 0x811C_9DC5
    static let prime: UInt32 = 0x0100_0193

    /// The hash of the bytes added so far.
    private(set) var value: UInt32 = FNV1a32.offsetBasis

    mutating func add(_ byte: UInt8) {
        value = (value ^ UInt32(byte)) &* Self.prime
    }

    mutating func add(_ bytes: some Sequence<UInt8>) {
        for byte in bytes { add(byte) }
    }

    /// Adds the decimal digits of `number` (≥ 0), as `"\(number)"` would spell them.
    mutating func add(decimal number: Int) {
        precondition(number >= 0, "negative number")
        var divisor = 1
        while divisor <= number / 10 { divisor *= 10 }
        var rest = number
        while divisor > 0 {
            add(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// The hash of `bytes`.
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var hasher = FNV1a32()
        hasher.add(bytes)
        return hasher.value
    }

    /// The hash of an IP's bytes in network order: 4 for IPv4, 16 for IPv6.
    static func hash(_ ip: IPKey) -> UInt32 {
        // IPKey keeps the address bytes in memory order (IPv4 as `s_addr`'s value, IPv6 as two
        // native loads), so the bytes of those integers as stored are the network-order bytes.
        var hasher = FNV1a32()
        if ip.isIPv6 {
            withUnsafeBytes(of: ip.high) { hasher.add($0) }
            withUnsafeBytes(of: ip.low) { hasher.add($0) }
        } else {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: ip.low)) { hasher.add($0) }
        }
        return hasher.value
    }
}
