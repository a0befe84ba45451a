import RelayIO
import RelayProtocol

/// A backend group's `send_proxy`: the PROXY protocol header relayd writes first on every connection to a server,
/// so the server learns the client's address (HAProxy's `send-proxy`, nginx's `proxy_protocol on`).
public enum ProxySendVersion: String, Sendable, CaseIterable {
    case off
    case v1
    case v2

    /// The header version, nil when off.
    public var headerVersion: ProxyHeader.Version? {
        switch self {
        case .off: nil
        case .v1: .v1
        case .v2: .v2
        }
    }
}

/// What a version 2 header carries beyond the addresses (`proxy_v2_options`, HAProxy's `proxy-v2-options`).
public enum ProxyV2Option: String, Sendable, CaseIterable {
    /// `PP2_TYPE_AUTHORITY`: the TLS server name the client asked for, when a route read its ClientHello.
    case authority
    /// `PP2_TYPE_CRC32C`: a checksum of the header, which the receiver verifies.
    case crc32c
    /// `PP2_TYPE_UNIQUE_ID`: an identifier of the connection (32 hex digits, random).
    case uniqueID = "unique_id"
}

/// A TCP listener's `accept_proxy` and `proxy_trusted`: whether a client connection starts with a PROXY protocol
/// header (from a proxy in front of relayd, such as HAProxy with `send-proxy`), and which peers may send one.
public struct ProxyAcceptConfig: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// No header is read; the bytes go to the server as they are (the default).
        case off
        /// Every connection from a trusted peer must start with a header; others are closed.
        case required
        /// A trusted peer's connection may start with a header (health checkers connect without one).
        case optional
    }

    public var mode: Mode
    /// The peers whose headers are believed (`proxy_trusted`, default loopback only). A connection from anyone
    /// else is closed when the header is required and relayed as it is when optional: a header from the world
    /// would let any client pick the address relayd logs, limits and balances on.
    public var trusted: [AddressBlock]
    /// How long a trusted peer has to send its header: the listener's `first_byte_timeout` when set, else this.
    public static let defaultTimeout = Duration.seconds(30)
    /// The longest header accepted: room for the addresses and a few TLVs.
    public static let maximumHeaderLength = 4096

    public static let loopback: [AddressBlock] = [
        AddressBlock(network: [127, 0, 0, 0], prefixLength: 8),
        AddressBlock(network: [UInt8](repeating: 0, count: 15) + [1], prefixLength: 128),
    ]

    public static let off = ProxyAcceptConfig(mode: .off, trusted: loopback)

    public init(mode: Mode, trusted: [AddressBlock] = ProxyAcceptConfig.loopback) {
        self.mode = mode
        self.trusted = trusted
    }

    /// Whether `peer` may send a header: its address is in a trusted block (an IPv4-mapped IPv6 address counts as
    /// its IPv4 address).
    public func trusts(_ peer: SocketAddress) -> Bool {
        trusted.contains(peer)
    }
}

extension [AddressBlock] {
    /// Whether `address` lies in one of the blocks; an IPv4-mapped IPv6 address counts as its IPv4 address.
    func contains(_ address: SocketAddress) -> Bool {
        var bytes = address.addressBytes
        if bytes.count == 16, bytes.prefix(10).allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            bytes = [UInt8](bytes.suffix(4))
        }
        return contains { $0.contains(bytes) }
    }
}

extension ProxyHeader {
    /// The header a group with `send_proxy` writes for `addresses`: its version, `proxy_v2_options` as TLVs
    /// (`authority` only when `serverName` is known), a checksum last when asked for.
    static func forGroup(_ config: BackendConfig, transport: Transport, addresses: Addresses?, serverName: String?)
        -> [UInt8]?
    {
        guard let version = config.sendProxy.headerVersion else { return nil }
        guard let addresses else { return ProxyHeader.local(version).encode() }
        var header = ProxyHeader(version: version, command: .proxy, transport: transport, addresses: addresses)
        guard version == .v2, !config.proxyV2Options.isEmpty else { return header.encode() }
        if config.proxyV2Options.contains(.authority), let serverName {
            header.tlvs.append(TLV(type: TLV.authority, value: Array(serverName.utf8)))
        }
        if config.proxyV2Options.contains(.uniqueID) {
            let hex = SecureRandom.bytes(count: 16).map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]]
            }.flatMap { $0 }
            header.tlvs.append(TLV(type: TLV.uniqueID, value: hex))
        }
        return config.proxyV2Options.contains(.crc32c) ? header.encodeWithChecksum() : header.encode()
    }
}

extension AddressBlock {
    /// A block given by its first address and prefix length (the address must be the block's first).
    init(network: [UInt8], prefixLength: Int) {
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Whether `address` (4 or 16 bytes) lies in the block.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var bits = prefixLength
        for index in network.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if address[index] & mask != network[index] { return false }
            bits -= 8
        }
        return true
    }
}

extension ConfigReader {
    /// `accept_proxy`: `true` (required), `false` (off) or `"optional"`.
    func proxyAcceptMode() -> ProxyAcceptConfig.Mode? {
        switch value {
        case .bool(let flag): return flag ? .required : .off
        case .string("optional"): return .optional
        default: return expected("`true`, `false` or \"optional\"")
        }
    }

    /// `proxy_trusted`: a list of addresses and CIDR blocks (`"10.0.0.0/8"`, `"192.0.2.7"`, `"::1"`).
    func addressBlocks() -> [AddressBlock]? {
        guard let elements = elements() else { return nil }
        var blocks: [AddressBlock] = []
        var valid = true
        for element in elements {
            guard case .string(let text) = element.value else {
                let _: Void? = element.expected("an address or CIDR block, such as \"10.0.0.0/8\" or \"::1\"")
                valid = false
                continue
            }
            let isIPv6 = text.contains(":")
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            let prefix = parts.count == 2 ? parts[1] : Substring(isIPv6 ? "128" : "32")
            do {
                blocks.append(try AddressBlock(address: parts[0], prefix: prefix, isIPv6: isIPv6))
            } catch {
                let _: Void? = element.expected("an address or CIDR block, such as \"10.0.0.0/8\" or \"::1\"", hint: error.message)
                valid = false
            }
        }
        return valid ? blocks : nil
    }
}
