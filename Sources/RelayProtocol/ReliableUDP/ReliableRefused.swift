/// REFUSED: the server will not make this session, and why.
///
/// Layout after the prefix: echo (16: bytes 6–21 of the refused packet, the client nonce's first 16 bytes in
/// HELLO and RESPONSE), reason (1), highest version the server speaks (1), retry after in seconds (2, 0 when
/// unknown). 26 bytes, and the same layout in every version, so a client reads it whatever its version byte.
/// It is not authenticated: a client acts on it only if the echo matches its own nonce.
public struct ReliableRefused: Sendable, Equatable, Hashable {
    /// Bytes 6–21 of the packet refused.
    public var echo: [UInt8]
    /// Why.
    public var reason: ReliableRefusalReason
    /// The newest version the server speaks.
    public var highestVersion: UInt8
    /// When to try again, in seconds; 0 when the server does not say.
    public var retryAfterSeconds: UInt16

    /// A REFUSED with these fields.
    public init(echo: [UInt8], reason: ReliableRefusalReason, highestVersion: UInt8 = ReliableWire.version,
                retryAfterSeconds: UInt16 = 0) {
        self.echo = echo
        self.reason = reason
        self.highestVersion = highestVersion
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// The packet: `ReliableWire.refusedSize` bytes.
    public func encode() -> [UInt8] {
        var writer = ReliableByteWriter(capacity: ReliableWire.refusedSize)
        writer.prefix(.refused)
        writer.append(echo)
        writer.u8(reason.rawValue)
        writer.u8(highestVersion)
        writer.u16(retryAfterSeconds)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliableRefused {
        try ReliablePacket.requireSize(bytes, exactly: ReliableWire.refusedSize, .refused)
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize)
        guard let echo = reader.bytes(ReliableWire.echoSize), let rawReason = reader.u8(),
            let version = reader.u8(), let retry = reader.u16()
        else { throw .truncated(.refused, needed: ReliableWire.refusedSize, got: bytes.count) }
        guard let reason = ReliableRefusalReason(rawValue: rawReason) else { throw .invalidField(.refused, "reason") }
        return ReliableRefused(echo: echo, reason: reason, highestVersion: version, retryAfterSeconds: retry)
    }
}
