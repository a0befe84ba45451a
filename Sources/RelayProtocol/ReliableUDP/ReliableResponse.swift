/// RESPONSE, the client's answer to CHALLENGE: the cookie back and a proof that it holds its key.
///
/// Layout after the prefix: client nonce (32), client id length (1), client id, cookie (36), client proof (32):
/// 107 bytes plus the id. `proof` is HMAC-SHA256 under the client's pre-shared key over the transcript
/// (`ReliableKeySchedule.clientProof`).
public struct ReliableResponse: Sendable, Equatable, Hashable {
    /// The HELLO's client nonce, again.
    public var clientNonce: [UInt8]
    /// The HELLO's client id, again.
    public var clientID: String
    /// The CHALLENGE's cookie, unchanged.
    public var cookie: ReliableCookie
    /// 32 bytes: the client's proof of its key.
    public var proof: [UInt8]

    /// A RESPONSE with these fields.
    public init(clientNonce: [UInt8], clientID: String, cookie: ReliableCookie, proof: [UInt8]) {
        self.clientNonce = clientNonce
        self.clientID = clientID
        self.cookie = cookie
        self.proof = proof
    }

    /// The smallest RESPONSE: a one-character client id.
    public static let minSize = ReliableWire.prefixSize + ReliableWire.nonceSize + 1 + 1 + ReliableCookie.size
        + ReliableWire.macSize

    /// The packet.
    public func encode() -> [UInt8] {
        let id = Array(clientID.utf8)
        var writer = ReliableByteWriter(capacity: Self.minSize - 1 + id.count)
        writer.prefix(.response)
        writer.append(clientNonce)
        writer.u8(UInt8(truncatingIfNeeded: id.count))
        writer.append(id)
        cookie.write(to: &writer)
        writer.append(proof)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliableResponse {
        guard bytes.count >= minSize else { throw .truncated(.response, needed: minSize, got: bytes.count) }
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize)
        guard let nonce = reader.bytes(ReliableWire.nonceSize), let length = reader.u8() else {
            throw .truncated(.response, needed: minSize, got: bytes.count)
        }
        let expected = minSize - 1 + Int(length)
        guard bytes.count == expected else {
            if bytes.count < expected { throw .truncated(.response, needed: expected, got: bytes.count) }
            throw .oversized(.response, limit: expected, got: bytes.count)
        }
        guard let id = reader.bytes(Int(length)), ReliableClientID.isValid(id) else {
            throw .invalidField(.response, "client id")
        }
        guard let cookie = ReliableCookie.read(from: &reader), let proof = reader.bytes(ReliableWire.macSize) else {
            throw .truncated(.response, needed: expected, got: bytes.count)
        }
        return ReliableResponse(
            clientNonce: nonce, clientID: String(decoding: id, as: UTF8.self), cookie: cookie, proof: proof)
    }
}
