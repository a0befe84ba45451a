/// The server's stateless cookie: which secret made it, and a MAC binding it to one client.
///
/// `mac` is HMAC-SHA256 under the server secret of `epoch` over the client's address, the epoch (the coarse
/// time), the client nonce and the client id. The server stores nothing for a client until it answers with a
/// valid RESPONSE: the cookie it echoes proves that the server made it for that address lately, as WireGuard's
/// cookie reply and QUIC's Retry token do (WireGuard whitepaper §5.4.7, RFC 9000 §8.1.2).
public struct ReliableCookie: Sendable, Equatable, Hashable {
    /// Epoch (4) and MAC (32).
    public static let size = 4 + ReliableWire.macSize

    /// The number of the secret that made the cookie; secrets rotate, and only the current and the previous
    /// epoch's cookies are accepted.
    public var epoch: UInt32
    /// 32 bytes.
    public var mac: [UInt8]

    /// A cookie of these parts.
    public init(epoch: UInt32, mac: [UInt8]) {
        self.epoch = epoch
        self.mac = mac
    }

    func write(to writer: inout ReliableByteWriter) {
        writer.u32(epoch)
        writer.append(mac)
    }

    static func read(from reader: inout ReliableByteReader) -> ReliableCookie? {
        guard let epoch = reader.u32(), let mac = reader.bytes(ReliableWire.macSize) else { return nil }
        return ReliableCookie(epoch: epoch, mac: mac)
    }
}
