/// CHALLENGE, the server's answer to HELLO: its nonce and a stateless cookie.
///
/// Layout after the prefix: echo (16: the first bytes of the client nonce), server nonce (32), cookie (36).
/// 90 bytes, smaller than any HELLO it answers.
public struct ReliableChallenge: Sendable, Equatable, Hashable {
    /// The first 16 bytes of the HELLO's client nonce.
    public var echo: [UInt8]
    /// 32 bytes from the server; it derives them from its secret, so it need not remember them.
    public var serverNonce: [UInt8]
    /// What the client must send back in RESPONSE.
    public var cookie: ReliableCookie

    /// A CHALLENGE with these fields.
    public init(echo: [UInt8], serverNonce: [UInt8], cookie: ReliableCookie) {
        self.echo = echo
        self.serverNonce = serverNonce
        self.cookie = cookie
    }

    /// The packet: `ReliableWire.challengeSize` bytes.
    public func encode() -> [UInt8] {
        var writer = ReliableByteWriter(capacity: ReliableWire.challengeSize)
        writer.prefix(.challenge)
        writer.append(echo)
        writer.append(serverNonce)
        cookie.write(to: &writer)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliableChallenge {
        try ReliablePacket.requireSize(bytes, exactly: ReliableWire.challengeSize, .challenge)
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize)
        guard let echo = reader.bytes(ReliableWire.echoSize), let nonce = reader.bytes(ReliableWire.nonceSize),
            let cookie = ReliableCookie.read(from: &reader)
        else { throw .truncated(.challenge, needed: ReliableWire.challengeSize, got: bytes.count) }
        return ReliableChallenge(echo: echo, serverNonce: nonce, cookie: cookie)
    }
}
