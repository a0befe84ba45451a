/// Reads a PROXY protocol header (version 1 or 2) from the first bytes of a connection or datagram.
public enum ProxyHeaderParse: Sendable, Equatable {
    /// The bytes so far are the start of a header (or too few to tell): read more. Never returned once
    /// `maximumLength` bytes are in hand.
    case needMore
    /// The bytes do not start a PROXY header (for listeners where the header is optional).
    case notProxy
    /// A whole header, and how many of the bytes it took; the rest belong to the connection.
    case header(ProxyHeader, length: Int)
    /// The bytes start like a header but break its rules: the connection must be closed.
    case invalid(String)
}

extension ProxyHeader {
    /// The longest version 2 header the format allows: the fixed part and 65,535 bytes.
    public static let v2MaximumLength = v2FixedLength + 0xFFFF

    /// Parses the header at the start of `bytes`. `maximumLength` bounds what a caller buffers: a version 2
    /// header declaring more is invalid (a version 1 line is never longer than 107 bytes).
    public static func parse(_ bytes: [UInt8], maximumLength: Int = v2MaximumLength) -> ProxyHeaderParse {
        parse(bytes[...], maximumLength: maximumLength)
    }

    public static func parse(_ bytes: ArraySlice<UInt8>, maximumLength: Int = v2MaximumLength) -> ProxyHeaderParse {
        let bytes = Array(bytes)
        guard let first = bytes.first else { return .needMore }
        if first == v2Signature[0] {
            let known = min(bytes.count, v2Signature.count)
            guard bytes[0..<known].elementsEqual(v2Signature[0..<known]) else { return .notProxy }
            return parseV2(bytes, maximumLength: maximumLength)
        }
        let known = min(bytes.count, v1Prefix.count)
        guard bytes[0..<known].elementsEqual(v1Prefix[0..<known]) else { return .notProxy }
        return parseV1(bytes)
    }

    // MARK: - Version 1

    private static func parseV1(_ bytes: [UInt8]) -> ProxyHeaderParse {
        let window = bytes.prefix(v1MaximumLength)
        // The first CR or LF decides, so that a header arriving in pieces is judged the same at every length.
        guard let cr = window.firstIndex(where: { $0 == 0x0D || $0 == 0x0A }) else {
            return bytes.count >= v1MaximumLength
                ? .invalid("no CRLF in the first \(v1MaximumLength) bytes of a version 1 header") : .needMore
        }
        guard bytes[cr] == 0x0D else { return .invalid("version 1 line ends in LF at byte \(cr) without CR") }
        guard cr + 2 <= v1MaximumLength else {
            return .invalid("version 1 line longer than \(v1MaximumLength) bytes with its CRLF")
        }
        guard cr + 1 < bytes.count else { return .needMore }
        guard bytes[cr + 1] == 0x0A else { return .invalid("version 1 line has CR without LF") }
        let length = cr + 2
        let fields = bytes[v1Prefix.count..<cr].split(separator: 0x20, omittingEmptySubsequences: false)
        guard let proto = fields.first else { return .invalid("version 1 line has no protocol") }
        switch String(decoding: proto, as: UTF8.self) {
        case "UNKNOWN":
            // Whatever follows UNKNOWN is ignored; the receiver uses the real endpoints.
            return .header(ProxyHeader(version: .v1, command: .proxy, transport: .unspecified, addresses: .unspecified),
                           length: length)
        case "TCP4", "TCP6":
            let isIPv6 = proto.elementsEqual("TCP6".utf8)
            guard fields.count == 5 else {
                return .invalid("version 1 line has \(fields.count) fields after PROXY, not 5")
            }
            let parseAddress = { (text: ArraySlice<UInt8>) -> [UInt8]? in
                isIPv6 ? IPAddressText.parseIPv6(text) : IPAddressText.parseIPv4(text)
            }
            guard let source = parseAddress(fields[1]) else {
                return .invalid("version 1 source address is not \(isIPv6 ? "IPv6" : "IPv4")")
            }
            guard let destination = parseAddress(fields[2]) else {
                return .invalid("version 1 destination address is not \(isIPv6 ? "IPv6" : "IPv4")")
            }
            guard let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else {
                return .invalid("version 1 port is not a number from 0 to 65535")
            }
            let addresses: Addresses = isIPv6
                ? .ipv6(source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort)
                : .ipv4(source: source, sourcePort: sourcePort, destination: destination, destinationPort: destinationPort)
            return .header(ProxyHeader(version: .v1, command: .proxy, transport: .stream, addresses: addresses),
                           length: length)
        default:
            return .invalid("version 1 protocol is not TCP4, TCP6 or UNKNOWN")
        }
    }

    /// A decimal port: 1 to 5 digits, no leading zero, at most 65535.
    private static func port(_ text: ArraySlice<UInt8>) -> UInt16? {
        guard !text.isEmpty, text.count <= 5, text.count == 1 || text.first != UInt8(ascii: "0") else { return nil }
        var value = 0
        for character in text {
            guard let digit = IPAddressText.decimal(character) else { return nil }
            value = value * 10 + digit
        }
        return value <= 0xFFFF ? UInt16(value) : nil
    }

    // MARK: - Version 2

    private static func parseV2(_ bytes: [UInt8], maximumLength: Int) -> ProxyHeaderParse {
        guard bytes.count >= v2FixedLength else { return .needMore }
        let versionCommand = bytes[12]
        guard versionCommand >> 4 == 2 else { return .invalid("version 2 signature with version \(versionCommand >> 4)") }
        guard let command = Command(rawValue: versionCommand & 0x0F) else {
            return .invalid("version 2 command \(versionCommand & 0x0F) is neither LOCAL nor PROXY")
        }
        let familyTransport = bytes[13]
        let family = familyTransport >> 4
        guard let transport = Transport(rawValue: familyTransport & 0x0F), family <= 3 else {
            return .invalid("version 2 address family or transport \(familyTransport) is unknown")
        }
        let bodyLength = Int(bytes[14]) << 8 | Int(bytes[15])
        let length = v2FixedLength + bodyLength
        guard length <= maximumLength else {
            return .invalid("version 2 header of \(length) bytes is longer than the \(maximumLength) accepted")
        }
        guard bytes.count >= length else { return .needMore }
        let body = bytes[v2FixedLength..<length]
        // LOCAL: the receiver uses the real endpoints and skips the block, whatever it holds.
        guard command == .proxy else {
            return .header(ProxyHeader(version: .v2, command: .local, transport: .unspecified, addresses: .unspecified),
                           length: length)
        }
        let addressLength = [0, 12, 36, 216][Int(family)]
        guard body.count >= addressLength else {
            return .invalid("version 2 header is \(body.count) bytes after the fixed part, too short for its addresses")
        }
        let start = body.startIndex
        func port(_ offset: Int) -> UInt16 { UInt16(body[start + offset]) << 8 | UInt16(body[start + offset + 1]) }
        let addresses: Addresses
        switch family {
        case 1:
            addresses = .ipv4(source: Array(body[start..<start + 4]), sourcePort: port(8),
                              destination: Array(body[start + 4..<start + 8]), destinationPort: port(10))
        case 2:
            addresses = .ipv6(source: Array(body[start..<start + 16]), sourcePort: port(32),
                              destination: Array(body[start + 16..<start + 32]), destinationPort: port(34))
        case 3:
            addresses = .unix(source: Array(body[start..<start + 108]), destination: Array(body[start + 108..<start + 216]))
        default:
            addresses = .unspecified
        }
        var tlvs: [TLV] = []
        var offset = start + addressLength
        while offset < body.endIndex {
            guard body.endIndex - offset >= 3 else { return .invalid("version 2 TLV cut short in its header") }
            let type = body[offset]
            let valueLength = Int(body[offset + 1]) << 8 | Int(body[offset + 2])
            offset += 3
            guard body.endIndex - offset >= valueLength else {
                return .invalid("version 2 TLV 0x\(String(type, radix: 16)) claims \(valueLength) bytes, "
                                + "\(body.endIndex - offset) are left")
            }
            if type == TLV.crc32c {
                // The checksum covers the whole header with its own value zero.
                guard valueLength == 4 else { return .invalid("version 2 CRC32C TLV of \(valueLength) bytes, not 4") }
                var zeroed = Array(bytes[0..<length])
                let valueStart = offset  // `body` keeps the indices of `bytes`
                let expected = zeroed[valueStart..<valueStart + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                for index in valueStart..<valueStart + 4 { zeroed[index] = 0 }
                guard CRC32C.checksum(zeroed) == expected else { return .invalid("version 2 CRC32C does not match") }
            }
            tlvs.append(TLV(type: type, value: Array(body[offset..<offset + valueLength])))
            offset += valueLength
        }
        return .header(ProxyHeader(version: .v2, command: .proxy, transport: transport, addresses: addresses, tlvs: tlvs),
                       length: length)
    }
}
