/// A PROXY protocol header (HAProxy's specification, versions 1 and 2): what a proxy in front tells the server
/// behind it about the connection it relays, sent once before the connection's own bytes.
public struct ProxyHeader: Sendable, Equatable {
    public enum Version: Sendable, Equatable {
        /// One line of text: `PROXY TCP4 192.0.2.1 198.51.100.1 56324 443\r\n`.
        case v1
        /// Binary, with a 12-byte signature, and optional TLVs.
        case v2
    }

    /// `local`: the connection is the proxy's own (a health check); the receiver uses the real endpoints.
    public enum Command: UInt8, Sendable {
        case local = 0
        case proxy = 1
    }

    public enum Transport: UInt8, Sendable {
        case unspecified = 0
        case stream = 1
        case datagram = 2
    }

    /// The original connection's endpoints: source is the client, destination the address it connected to.
    public enum Addresses: Sendable, Equatable {
        case unspecified
        /// 4-byte addresses.
        case ipv4(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16)
        /// 16-byte addresses.
        case ipv6(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16)
        /// Socket paths, 108 bytes each (zero-padded), version 2 only.
        case unix(source: [UInt8], destination: [UInt8])

        /// The source address's bytes and port, for IPv4 and IPv6.
        public var source: (address: [UInt8], port: UInt16)? {
            switch self {
            case let .ipv4(address, port, _, _), let .ipv6(address, port, _, _): (address, port)
            case .unspecified, .unix: nil
            }
        }

        /// The destination address's bytes and port, for IPv4 and IPv6.
        public var destination: (address: [UInt8], port: UInt16)? {
            switch self {
            case let .ipv4(_, _, address, port), let .ipv6(_, _, address, port): (address, port)
            case .unspecified, .unix: nil
            }
        }

        /// Builds IPv4 or IPv6 addresses from two addresses of one family (4 or 16 bytes each); an IPv4 address
        /// beside an IPv6 one is written as IPv4-mapped IPv6. nil for other lengths.
        public init?(source: [UInt8], sourcePort: UInt16, destination: [UInt8], destinationPort: UInt16) {
            switch (source.count, destination.count) {
            case (4, 4):
                self = .ipv4(source: source, sourcePort: sourcePort, destination: destination,
                             destinationPort: destinationPort)
            case (16, 16), (4, 16), (16, 4):
                self = .ipv6(source: Self.mapped(source), sourcePort: sourcePort,
                             destination: Self.mapped(destination), destinationPort: destinationPort)
            default:
                return nil
            }
        }

        static func mapped(_ address: [UInt8]) -> [UInt8] {
            address.count == 16 ? address : [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF] + address
        }
    }

    /// A type-length-value field of version 2.
    public struct TLV: Sendable, Equatable {
        public var type: UInt8
        public var value: [UInt8]
        public init(type: UInt8, value: [UInt8]) {
            self.type = type
            self.value = value
        }

        public static let alpn: UInt8 = 0x01
        public static let authority: UInt8 = 0x02
        public static let crc32c: UInt8 = 0x03
        public static let noop: UInt8 = 0x04
        public static let uniqueID: UInt8 = 0x05
        public static let ssl: UInt8 = 0x20
        public static let netns: UInt8 = 0x30
    }

    public var version: Version
    public var command: Command
    public var transport: Transport
    public var addresses: Addresses
    /// Version 2 only; empty for version 1 and for `local` headers.
    public var tlvs: [TLV]

    public init(version: Version, command: Command = .proxy, transport: Transport = .stream,
                addresses: Addresses, tlvs: [TLV] = []) {
        self.version = version
        self.command = command
        self.transport = transport
        self.addresses = addresses
        self.tlvs = tlvs
    }

    /// A header that says "use the real endpoints": `PROXY UNKNOWN\r\n` or a version 2 `LOCAL`. Health checks
    /// send this.
    public static func local(_ version: Version) -> ProxyHeader {
        switch version {
        case .v1: ProxyHeader(version: .v1, command: .proxy, transport: .unspecified, addresses: .unspecified)
        case .v2: ProxyHeader(version: .v2, command: .local, transport: .unspecified, addresses: .unspecified)
        }
    }

    /// The version 2 signature: the 12 bytes every version 2 header starts with.
    public static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    /// The longest version 1 line, CRLF included.
    public static let v1MaximumLength = 107
    /// Version 2's fixed part: signature, version and command, family and transport, length.
    public static let v2FixedLength = 16
    static let v1Prefix = Array("PROXY ".utf8)
    static let unixPathLength = 108

    // MARK: - Encoding

    /// The header's bytes. Version 1 can carry only TCP over IPv4 or IPv6: anything else is written as
    /// `PROXY UNKNOWN\r\n` (the receiver then uses the real endpoints). Version 2 TLVs whose value is longer
    /// than 65,535 bytes, or that would make the header longer than the format allows, are left out.
    public func encode() -> [UInt8] {
        switch version {
        case .v1: encodeV1()
        case .v2: encodeV2()
        }
    }

    private func encodeV1() -> [UInt8] {
        var line = "PROXY "
        switch addresses {
        case let .ipv4(source, sourcePort, destination, destinationPort) where command == .proxy:
            line += "TCP4 \(IPAddressText.format(source) ?? "") \(IPAddressText.format(destination) ?? "") "
                + "\(sourcePort) \(destinationPort)"
        case let .ipv6(source, sourcePort, destination, destinationPort) where command == .proxy:
            line += "TCP6 \(IPAddressText.format(source) ?? "") \(IPAddressText.format(destination) ?? "") "
                + "\(sourcePort) \(destinationPort)"
        default:
            line += "UNKNOWN"
        }
        return Array((line + "\r\n").utf8)
    }

    /// Version 2 with a `CRC32C` TLV last, whose value is the checksum of the whole header with that value zero
    /// (the specification's rule); any `CRC32C` TLV already in `tlvs` is replaced.
    public func encodeWithChecksum() -> [UInt8] {
        guard version == .v2, command == .proxy else { return encode() }
        var copy = self
        copy.tlvs.removeAll { $0.type == TLV.crc32c }
        copy.tlvs.append(TLV(type: TLV.crc32c, value: [0, 0, 0, 0]))
        var bytes = copy.encodeV2()
        guard bytes.count >= 4 else { return bytes }
        let crc = CRC32C.checksum(bytes)
        let at = bytes.count - 4
        for index in 0..<4 { bytes[at + index] = UInt8(truncatingIfNeeded: crc >> (24 - 8 * index)) }
        return bytes
    }

    private func encodeV2() -> [UInt8] {
        var body: [UInt8] = []
        var family: UInt8 = 0
        if command == .proxy {
            switch addresses {
            case .unspecified:
                family = 0
            case let .ipv4(source, sourcePort, destination, destinationPort):
                family = 1
                body = source + destination + Self.bigEndian(sourcePort) + Self.bigEndian(destinationPort)
            case let .ipv6(source, sourcePort, destination, destinationPort):
                family = 2
                body = source + destination + Self.bigEndian(sourcePort) + Self.bigEndian(destinationPort)
            case let .unix(source, destination):
                family = 3
                body = Self.padded(source) + Self.padded(destination)
            }
            for tlv in tlvs where tlv.value.count <= 0xFFFF && body.count + 3 + tlv.value.count <= 0xFFFF {
                body.append(tlv.type)
                body += Self.bigEndian(UInt16(tlv.value.count))
                body += tlv.value
            }
        }
        let transport = command == .proxy ? self.transport.rawValue : 0
        return Self.v2Signature + [0x20 | command.rawValue, family << 4 | transport]
            + Self.bigEndian(UInt16(body.count)) + body
    }

    static func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(truncatingIfNeeded: value)] }

    static func padded(_ path: [UInt8]) -> [UInt8] {
        Array(path.prefix(unixPathLength)) + [UInt8](repeating: 0, count: max(0, unixPathLength - path.count))
    }
}
