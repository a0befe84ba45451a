#if canImport(Glibc)
import Glibc
#endif

/// A block of IP addresses written in CIDR notation (`10.0.0.0/30`, `2001:db8::/126`), which a server list expands
/// into one server per address.
///
/// For IPv4 blocks of /30 and wider the first address (the network) and the last (the broadcast address) are left
/// out, since no server answers there; /31 (a point-to-point link) and /32 have no such addresses and keep all.
/// IPv6 has no broadcast address, so every address of an IPv6 block is used.
public struct AddressBlock: Sendable, Equatable, CustomStringConvertible {
    /// The first address of the block, 4 bytes for IPv4 or 16 for IPv6, in network order.
    public let network: [UInt8]
    /// How many leading bits are fixed: 0 to 32 for IPv4, 0 to 128 for IPv6.
    public let prefixLength: Int

    var isIPv6: Bool { network.count == 16 }

    /// Bits that vary inside the block.
    var hostBits: Int { network.count * 8 - prefixLength }

    /// `10.0.0.0/30` or `2001:db8::/126`.
    public var description: String {
        "\(Endpoint(addressBytes: network, port: 0).host)/\(prefixLength)"
    }

    /// Reads `address/prefix`, which must name the block's first address: `10.0.0.1/30` is refused rather than
    /// guessed at, since it is as likely meant as `10.0.0.1` alone as `10.0.0.0/30`.
    init(address: Substring, prefix: Substring, isIPv6: Bool) throws(ServerSpec.Failure) {
        func fail(_ message: String) -> ServerSpec.Failure { ServerSpec.Failure(message: message) }
        let family = isIPv6 ? "IPv6" : "IPv4"
        let isNumeric = address.allSatisfy { $0 == "." || ("0"..."9").contains($0) }
        guard isIPv6 || isNumeric else {
            throw fail("`\(address)` is not an IP address; a block is an address and a prefix length, as in "
                       + "10.0.0.0/24")
        }
        guard let bytes = AddressBlock.bytes(of: String(address), isIPv6: isIPv6) else {
            throw fail("`\(address)` is not a valid \(family) address")
        }
        let maximum = bytes.count * 8
        guard !prefix.isEmpty else { throw fail("the prefix length is missing after `/`") }
        guard prefix.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw fail("the prefix length `\(prefix)` is not a number")
        }
        guard prefix.count <= 3, let length = Int(prefix), length <= maximum else {
            throw fail("the prefix length \(prefix) is out of range (0 to \(maximum) for \(family))")
        }
        var network = bytes
        for index in network.indices {
            let fixedBits = min(max(length - index * 8, 0), 8)
            network[index] &= fixedBits == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - fixedBits))
        }
        self.network = network
        self.prefixLength = length
        guard network == bytes else {
            throw fail("`\(address)` is not the first address of a /\(length) block; write \(self) for the block, "
                       + "or \(address) alone")
        }
    }

    /// How many servers the block adds, or nil when that does not fit in an `Int` (a wide IPv6 block).
    var count: Int? {
        guard hostBits < Int.bitWidth - 1 else { return nil }
        let all = 1 << hostBits
        return !isIPv6 && hostBits >= 2 ? all - 2 : all
    }

    /// `count` in words, such as `65534` or `2^64`.
    var countDescription: String {
        count.map(String.init) ?? "2^\(hostBits)"
    }

    /// The addresses of the block in order, with `port`. Only call this after checking `count`.
    func endpoints(port: UInt16) -> [Endpoint] {
        guard let count else { return [] }
        // The varying part fits in the last 8 bytes, since `count` fits in an Int.
        let skip = !isIPv6 && hostBits >= 2 ? 1 : 0
        var base: UInt64 = 0
        for byte in network.suffix(8) { base = base << 8 | UInt64(byte) }
        let prefixBytes = network.dropLast(min(8, network.count))
        return (0..<count).map { offset in
            let value = base + UInt64(offset + skip)
            let tail = (0..<min(8, network.count)).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
            return Endpoint(addressBytes: Array(prefixBytes) + tail, port: port)
        }
    }

    /// The bytes `inet_pton` makes of `text`, or nil if it is not an address of that family.
    private static func bytes(of text: String, isIPv6: Bool) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: isIPv6 ? 16 : 4)
        let parsed = bytes.withUnsafeMutableBytes { buffer in
            inet_pton(isIPv6 ? AF_INET6 : AF_INET, text, buffer.baseAddress)
        }
        return parsed == 1 ? bytes : nil
    }
}
