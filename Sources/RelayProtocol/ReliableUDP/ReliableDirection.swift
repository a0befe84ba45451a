/// Which way a session packet travels. Each direction has its own key, and its label leads the nonce, so a
/// (key, nonce) pair is never used twice even if both keys were equal.
public enum ReliableDirection: UInt32, Sendable {
    /// Sealed with the client-to-server key.
    case clientToServer = 1
    /// Sealed with the server-to-client key.
    case serverToClient = 2

    /// The 12-byte ChaCha20-Poly1305 nonce of packet `packetNumber` in this direction: the label (4, big-endian),
    /// then the packet number as 8 big-endian bytes. Packet numbers never repeat within a session, and a session
    /// has keys of its own, so no nonce repeats under a key (RFC 8439 §4).
    public func nonce(packetNumber: UInt32) -> [UInt8] {
        var writer = ReliableByteWriter(capacity: 12)
        writer.u32(rawValue)
        writer.u64(UInt64(packetNumber))
        return writer.bytes
    }
}
