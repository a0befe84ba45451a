/// The constants of the reliable-UDP wire format, version 1, as docs/reliable-udp.md lays them out byte by byte.
///
/// Every packet starts with the same six bytes: the magic, the version and the type. A datagram that does not
/// start with the magic is not ours and gets no reply at all.
public enum ReliableWire {
    /// "RLYU": the first four bytes of every packet, so stray traffic is told apart at once.
    public static let magic: [UInt8] = [0x52, 0x4C, 0x59, 0x55]
    /// The only version this code speaks.
    public static let version: UInt8 = 1
    /// Magic (4), version (1), type (1).
    public static let prefixSize = 6

    /// A session packet's header, sent in clear and authenticated as the AEAD's associated data.
    public static let headerSize = 44
    /// The Poly1305 tag that ends every session packet.
    public static let tagSize = 16
    /// Header and tag: what a session packet costs beyond its payload.
    public static let sessionOverhead = headerSize + tagSize
    /// A DATA payload's own header: fragment index (2) and fragment count (2).
    public static let fragmentHeaderSize = 4

    /// The largest message: the largest UDP payload over IPv4.
    public static let maxMessageSize = 65_507
    /// The largest datagram either side sends or accepts.
    public static let maxDatagramSize = 65_507
    /// The smallest `max_packet_size`: a DATA packet must still carry 64 bytes of message.
    public static let minPacketSize = 128
    /// The default `max_packet_size`: fits the IPv6 minimum MTU with room for tunnels, as QUIC's does.
    public static let defaultPacketSize = 1200
    /// Most fragments per message: a 65,507-byte message in 64-byte fragments (`minPacketSize`).
    public static let maxFragments = 1024

    /// Client and server nonces.
    public static let nonceSize = 32
    /// The bytes of the client nonce that CHALLENGE, WELCOME and REFUSED echo, so a client ignores replies to
    /// a handshake it did not start (an off-path attacker cannot guess them).
    public static let echoSize = 16
    /// HMAC-SHA256 output: cookie MACs and handshake proofs.
    public static let macSize = 32
    /// Pre-shared keys and session keys.
    public static let keySize = 32
    /// Longest client id.
    public static let maxClientIDLength = 64

    /// The smallest HELLO: at least as large as any reply to it (CHALLENGE is 90 bytes), so the server never
    /// amplifies. Clients pad further, to their `max_packet_size`, so a path that cannot carry full-size
    /// packets fails at the handshake instead of mid-session.
    public static let minHelloSize = 128
    /// CHALLENGE: prefix, echo, server nonce, cookie.
    public static let challengeSize = prefixSize + echoSize + nonceSize + ReliableCookie.size
    /// WELCOME: prefix, echo, session id, flags, max packet size, idle timeout, server proof.
    public static let welcomeSize = prefixSize + echoSize + 8 + 1 + 2 + 4 + macSize
    /// REFUSED: prefix, echo, reason, highest version, retry-after seconds. The same in every version.
    public static let refusedSize = prefixSize + echoSize + 1 + 1 + 2

    /// Receivers accept at least this many messages before they have said otherwise, so a sender may start
    /// before it has heard the peer's receive limit.
    public static let initialReceiveWindow: UInt32 = 16

    /// True when `bytes` starts with the magic.
    static func hasMagic(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 4 && bytes[0] == magic[0] && bytes[1] == magic[1] && bytes[2] == magic[2]
            && bytes[3] == magic[3]
    }
}
