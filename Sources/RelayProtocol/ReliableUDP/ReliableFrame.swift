/// What a session packet says once its tag is verified and its payload opened.
///
/// DATA's payload is fragment index (2), fragment count (2) and the fragment's bytes; CLOSE's is the reason (1);
/// ACK, PING and PONG have none (their header says all).
public enum ReliableFrame: Sendable, Equatable, Hashable {
    /// One fragment of the message the header's `messageSequence` names.
    case data(index: UInt16, count: UInt16, bytes: [UInt8])
    /// Acknowledgements only.
    case ack
    /// Please acknowledge now.
    case ping
    /// The acknowledgement a PING asked for.
    case pong
    /// The peer ends the session.
    case close(ReliableCloseReason)

    /// The packet type that carries this frame.
    public var type: ReliablePacketType {
        switch self {
        case .data: return .data
        case .ack: return .ack
        case .ping: return .ping
        case .pong: return .pong
        case .close: return .close
        }
    }

    /// The payload bytes, before sealing.
    public func encode() -> [UInt8] {
        switch self {
        case .data(let index, let count, let bytes):
            var writer = ReliableByteWriter(capacity: ReliableWire.fragmentHeaderSize + bytes.count)
            writer.u16(index)
            writer.u16(count)
            writer.append(bytes)
            return writer.bytes
        case .ack, .ping, .pong:
            return []
        case .close(let reason):
            return [reason.rawValue]
        }
    }

    /// Reads an opened payload of a packet of `type`.
    public static func decode(type: ReliablePacketType, payload: [UInt8]) throws(ReliablePacketError) -> ReliableFrame {
        switch type {
        case .data:
            var reader = ReliableByteReader(payload)
            guard let index = reader.u16(), let count = reader.u16() else {
                throw .truncated(.data, needed: ReliableWire.sessionOverhead + 4, got: payload.count)
            }
            guard count >= 1, Int(count) <= ReliableWire.maxFragments, index < count else {
                throw .invalidField(.data, "fragment index or count")
            }
            let bytes = reader.bytes(reader.remaining) ?? []
            guard !bytes.isEmpty || count == 1 else { throw .invalidField(.data, "empty fragment") }
            return .data(index: index, count: count, bytes: bytes)
        case .ack, .ping, .pong:
            guard payload.isEmpty else {
                throw .oversized(type, limit: ReliableWire.sessionOverhead, got: ReliableWire.sessionOverhead + payload.count)
            }
            return type == .ack ? .ack : type == .ping ? .ping : .pong
        case .close:
            guard payload.count == 1 else {
                if payload.isEmpty { throw .truncated(.close, needed: ReliableWire.sessionOverhead + 1, got: ReliableWire.sessionOverhead) }
                throw .oversized(.close, limit: ReliableWire.sessionOverhead + 1, got: ReliableWire.sessionOverhead + payload.count)
            }
            return .close(ReliableCloseReason(rawValue: payload[0]) ?? .unknown)
        case .hello, .challenge, .response, .welcome, .refused:
            throw .invalidField(type, "type for a session packet")
        }
    }
}
