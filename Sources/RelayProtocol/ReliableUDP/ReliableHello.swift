/// HELLO, the client's first packet: who it is and its nonce, padded so no reply to it is larger.
///
/// Layout after the prefix: client nonce (32), client id length (1), client id, zero padding up to at least
/// `ReliableWire.minHelloSize` in all.
public struct ReliableHello: Sendable, Equatable, Hashable {
    /// 32 random bytes from the client, fresh for each handshake.
    public var clientNonce: [UInt8]
    /// Names the client's pre-shared key; see `ReliableClientID`.
    public var clientID: String

    /// A HELLO with these fields.
    public init(clientNonce: [UInt8], clientID: String) {
        self.clientNonce = clientNonce
        self.clientID = clientID
    }

    /// The packet, zero-padded to `paddedSize` bytes (never below `ReliableWire.minHelloSize`).
    public func encode(paddedSize: Int = ReliableWire.minHelloSize) -> [UInt8] {
        let size = min(max(paddedSize, ReliableWire.minHelloSize), ReliableWire.maxDatagramSize)
        var writer = ReliableByteWriter(capacity: size)
        writer.prefix(.hello)
        writer.append(clientNonce)
        let id = Array(clientID.utf8)
        writer.u8(UInt8(truncatingIfNeeded: id.count))
        writer.append(id)
        writer.zeros(size - writer.bytes.count)
        return writer.bytes
    }

    /// Reads the fields after the prefix; the padding is not looked at.
    static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliableHello {
        guard bytes.count >= ReliableWire.minHelloSize else {
            throw .truncated(.hello, needed: ReliableWire.minHelloSize, got: bytes.count)
        }
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize)
        guard let nonce = reader.bytes(ReliableWire.nonceSize), let length = reader.u8() else {
            throw .truncated(.hello, needed: ReliableWire.minHelloSize, got: bytes.count)
        }
        guard let id = reader.bytes(Int(length)), ReliableClientID.isValid(id) else {
            throw .invalidField(.hello, "client id")
        }
        return ReliableHello(clientNonce: nonce, clientID: String(decoding: id, as: UTF8.self))
    }
}
