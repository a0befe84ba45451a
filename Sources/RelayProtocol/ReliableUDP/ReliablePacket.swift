/// One reliable-UDP datagram, decoded as far as it can be without keys.
///
/// Handshake packets decode completely. A session packet decodes to its header and its protected part (the
/// payload, sealed or in clear, then the 16-byte tag); `ReliableSession` verifies the tag with the header as
/// associated data before it reads the payload as a `ReliableFrame`. Lengths are checked here, before any
/// cryptography runs: every session type has a fixed payload size or a minimum, and AEAD sealing keeps sizes.
public enum ReliablePacket: Sendable, Equatable, Hashable {
    /// Type 1, client → server.
    case hello(ReliableHello)
    /// Type 2, server → client.
    case challenge(ReliableChallenge)
    /// Type 3, client → server.
    case response(ReliableResponse)
    /// Type 4, server → client.
    case welcome(ReliableWelcome)
    /// Type 5, server → client.
    case refused(ReliableRefused)
    /// DATA, ACK, PING, PONG or CLOSE: the header, and the payload and tag as sent.
    case session(ReliableHeader, protected: [UInt8])

    /// The packet type.
    public var type: ReliablePacketType {
        switch self {
        case .hello: return .hello
        case .challenge: return .challenge
        case .response: return .response
        case .welcome: return .welcome
        case .refused: return .refused
        case .session(let header, _): return header.type
        }
    }

    /// The datagram. A HELLO is padded to the minimum only; use `ReliableHello.encode(paddedSize:)` for more.
    public func encode() -> [UInt8] {
        switch self {
        case .hello(let hello): return hello.encode()
        case .challenge(let challenge): return challenge.encode()
        case .response(let response): return response.encode()
        case .welcome(let welcome): return welcome.encode()
        case .refused(let refused): return refused.encode()
        case .session(let header, let protected):
            var writer = ReliableByteWriter(capacity: ReliableWire.headerSize + protected.count)
            header.write(to: &writer)
            writer.append(protected)
            return writer.bytes
        }
    }

    /// Decodes one datagram, or says why it is not a valid packet. Never traps, never reads past the end.
    ///
    /// REFUSED is read whatever its version byte says, since its layout is the same in every version.
    public static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliablePacket {
        let type = try prefixType(bytes)
        switch type {
        case .hello: return .hello(try ReliableHello.decode(bytes))
        case .challenge: return .challenge(try ReliableChallenge.decode(bytes))
        case .response: return .response(try ReliableResponse.decode(bytes))
        case .welcome: return .welcome(try ReliableWelcome.decode(bytes))
        case .refused: return .refused(try ReliableRefused.decode(bytes))
        case .data, .ack, .ping, .pong, .close:
            try requireSessionSize(bytes, type)
            let header = try ReliableHeader.decode(bytes, type: type)
            return .session(header, protected: Array(bytes[ReliableWire.headerSize...]))
        }
    }

    /// Checks the magic, the version and the type byte, and returns the type.
    ///
    /// A REFUSED passes whatever its version; any other packet of another version is `unsupportedVersion`.
    public static func prefixType(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliablePacketType {
        if bytes.count < ReliableWire.prefixSize {
            if bytes.count >= 4, !ReliableWire.hasMagic(bytes) { throw .badMagic }
            throw .truncated(nil, needed: ReliableWire.prefixSize, got: bytes.count)
        }
        guard ReliableWire.hasMagic(bytes) else { throw .badMagic }
        guard bytes.count <= ReliableWire.maxDatagramSize else {
            throw .oversized(nil, limit: ReliableWire.maxDatagramSize, got: bytes.count)
        }
        let rawType = bytes[5]
        if bytes[4] != ReliableWire.version, rawType != ReliablePacketType.refused.rawValue {
            throw .unsupportedVersion(bytes[4])
        }
        guard let type = ReliablePacketType(rawValue: rawType) else { throw .unknownType(rawType) }
        return type
    }

    /// Throws unless `bytes` is exactly `size` long.
    static func requireSize(_ bytes: [UInt8], exactly size: Int, _ type: ReliablePacketType)
        throws(ReliablePacketError)
    {
        if bytes.count < size { throw .truncated(type, needed: size, got: bytes.count) }
        if bytes.count > size { throw .oversized(type, limit: size, got: bytes.count) }
    }

    /// Throws unless a session packet of `type` has the size its payload allows: DATA at least a fragment
    /// header, CLOSE exactly a reason byte, ACK, PING and PONG nothing.
    static func requireSessionSize(_ bytes: [UInt8], _ type: ReliablePacketType) throws(ReliablePacketError) {
        let overhead = ReliableWire.sessionOverhead
        switch type {
        case .data:
            if bytes.count < overhead + ReliableWire.fragmentHeaderSize {
                throw .truncated(.data, needed: overhead + ReliableWire.fragmentHeaderSize, got: bytes.count)
            }
        case .close:
            try requireSize(bytes, exactly: overhead + 1, .close)
        default:
            try requireSize(bytes, exactly: overhead, type)
        }
    }
}
