/// The 44-byte header of every session packet (DATA, ACK, PING, PONG, CLOSE), sent in clear and authenticated
/// as the AEAD's associated data, so nothing in it can be changed on the way.
///
/// Layout (big-endian): magic (4), version (1), type (1), ack delay (2), session id (8), packet number (4),
/// message sequence (4), ack (4), ack bitfield (4), receive limit (4), send timestamp (8).
public struct ReliableHeader: Sendable, Equatable, Hashable {
    /// DATA, ACK, PING, PONG or CLOSE.
    public var type: ReliablePacketType
    /// Microseconds between receiving the packet numbered `ack` and sending this one (saturating at 65,535),
    /// so the peer can take its own delay out of its RTT sample (RFC 9002 §5.3).
    public var ackDelayMicroseconds: UInt16
    /// The session, as WELCOME named it.
    public var sessionID: UInt64
    /// Counts every packet a side sends in the session, from 1, never reused, never wrapping: the replay window,
    /// the acknowledgements and the AEAD nonce all key on it.
    public var packetNumber: UInt32
    /// DATA: the message this fragment belongs to, counting messages from 1. Zero in other types.
    public var messageSequence: UInt32
    /// The largest packet number received from the peer; zero before any.
    public var ack: UInt32
    /// Bit i set: packet `ack − 1 − i` was received too (seed 000's scheme, the 32 packets before `ack`).
    public var ackBitfield: UInt32
    /// The sender accepts messages whose sequence is below this: its receive window, which only grows.
    public var receiveLimit: UInt32
    /// The sender's monotonic clock when it sent the packet, in microseconds; the peer uses it for jitter.
    public var timestamp: UInt64

    /// A header with these fields.
    public init(type: ReliablePacketType, ackDelayMicroseconds: UInt16 = 0, sessionID: UInt64, packetNumber: UInt32,
                messageSequence: UInt32 = 0, ack: UInt32 = 0, ackBitfield: UInt32 = 0, receiveLimit: UInt32 = 0,
                timestamp: UInt64 = 0) {
        self.type = type
        self.ackDelayMicroseconds = ackDelayMicroseconds
        self.sessionID = sessionID
        self.packetNumber = packetNumber
        self.messageSequence = messageSequence
        self.ack = ack
        self.ackBitfield = ackBitfield
        self.receiveLimit = receiveLimit
        self.timestamp = timestamp
    }

    /// The 44 header bytes.
    public func encode() -> [UInt8] {
        var writer = ReliableByteWriter(capacity: ReliableWire.headerSize)
        write(to: &writer)
        return writer.bytes
    }

    func write(to writer: inout ReliableByteWriter) {
        writer.prefix(type)
        writer.u16(ackDelayMicroseconds)
        writer.u64(sessionID)
        writer.u32(packetNumber)
        writer.u32(messageSequence)
        writer.u32(ack)
        writer.u32(ackBitfield)
        writer.u32(receiveLimit)
        writer.u64(timestamp)
    }

    /// Reads the header of a session packet whose prefix `ReliablePacket.decode` has checked.
    static func decode(_ bytes: [UInt8], type: ReliablePacketType) throws(ReliablePacketError) -> ReliableHeader {
        let minimum = ReliableWire.sessionOverhead
        guard bytes.count >= minimum else { throw .truncated(type, needed: minimum, got: bytes.count) }
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize, end: ReliableWire.headerSize)
        guard let delay = reader.u16(), let session = reader.u64(), let number = reader.u32(),
            let sequence = reader.u32(), let ack = reader.u32(), let bitfield = reader.u32(),
            let limit = reader.u32(), let timestamp = reader.u64()
        else { throw .truncated(type, needed: minimum, got: bytes.count) }
        guard session != 0 else { throw .invalidField(type, "session id") }
        guard number != 0 else { throw .invalidField(type, "packet number") }
        guard (type == .data) == (sequence != 0) else { throw .invalidField(type, "message sequence") }
        guard ack != 0 || bitfield == 0 else { throw .invalidField(type, "ack bitfield") }
        return ReliableHeader(
            type: type, ackDelayMicroseconds: delay, sessionID: session, packetNumber: number,
            messageSequence: sequence, ack: ack, ackBitfield: bitfield, receiveLimit: limit, timestamp: timestamp)
    }
}
