/// What the server tells the client about the session in WELCOME, under its proof so nobody can change it.
public struct ReliableSessionParameters: Sendable, Equatable, Hashable {
    /// Every session packet is AEAD-sealed (true) or carries only the Poly1305 tag over plaintext (false).
    public var encrypted: Bool
    /// The largest datagram the server accepts; the client sends none larger. 128–65,507.
    public var maxPacketSize: Int
    /// The server closes a session it has heard nothing from for this long; the client keeps it alive with
    /// PINGs well inside it. In milliseconds, 1–4,294,967,295.
    public var idleTimeoutMilliseconds: UInt32

    /// Parameters with these values.
    public init(encrypted: Bool = true, maxPacketSize: Int = ReliableWire.defaultPacketSize,
                idleTimeoutMilliseconds: UInt32 = 30_000) {
        self.encrypted = encrypted
        self.maxPacketSize = maxPacketSize
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
    }

    /// Flags (1: bit 0 = encrypted, the others zero), max packet size (2), idle timeout (4): 7 bytes, as WELCOME
    /// carries them and the server's proof covers them.
    var encoded: [UInt8] {
        var writer = ReliableByteWriter(capacity: 7)
        writer.u8(encrypted ? 1 : 0)
        writer.u16(UInt16(clamping: maxPacketSize))
        writer.u32(idleTimeoutMilliseconds)
        return writer.bytes
    }

    static func read(from reader: inout ReliableByteReader) -> ReliableSessionParameters? {
        guard let flags = reader.u8(), flags & ~1 == 0, let size = reader.u16(), let idle = reader.u32(),
            Int(size) >= ReliableWire.minPacketSize, Int(size) <= ReliableWire.maxDatagramSize, idle > 0
        else { return nil }
        return ReliableSessionParameters(
            encrypted: flags & 1 == 1, maxPacketSize: Int(size), idleTimeoutMilliseconds: idle)
    }
}
