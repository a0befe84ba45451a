/// Every value the handshake derives, and how: cookie, server nonce, transcript, proofs, session id, keys.
///
/// Each HMAC and HKDF input starts with its own ASCII label, so no value can stand in for another. Lengths
/// that vary (address, client id) are prefixed with one length byte. docs/reliable-udp.md, "Key schedule",
/// gives the same in bytes.
public struct ReliableKeySchedule: Sendable {
    /// The primitives.
    let cryptography: any ReliableCryptography

    /// A schedule over these primitives.
    public init(cryptography: any ReliableCryptography) {
        self.cryptography = cryptography
    }

    /// What the cookie and the server nonce bind: version, address, epoch, client nonce, client id.
    static func cookieInput(address: ReliablePeerAddress, epoch: UInt32, clientNonce: [UInt8],
                            clientID: String) -> [UInt8] {
        var writer = ReliableByteWriter(capacity: 128)
        writer.u8(ReliableWire.version)
        writer.u8(UInt8(truncatingIfNeeded: address.bytes.count))
        writer.append(address.bytes)
        writer.u32(epoch)
        writer.append(clientNonce)
        let id = Array(clientID.utf8)
        writer.u8(UInt8(truncatingIfNeeded: id.count))
        writer.append(id)
        return writer.bytes
    }

    /// `HMAC(secret, "relayd-rudp cookie" ‖ cookieInput)`.
    public func cookieMAC(secret: [UInt8], address: ReliablePeerAddress, epoch: UInt32, clientNonce: [UInt8],
                          clientID: String) -> [UInt8] {
        let input = Self.cookieInput(address: address, epoch: epoch, clientNonce: clientNonce, clientID: clientID)
        return cryptography.hmacSHA256(key: secret, message: Self.label("cookie") + input)
    }

    /// `HMAC(secret, "relayd-rudp server nonce" ‖ cookieInput)`: fresh for each client nonce, address and
    /// epoch, unpredictable without the secret, and recomputed from RESPONSE instead of stored.
    public func serverNonce(secret: [UInt8], address: ReliablePeerAddress, epoch: UInt32, clientNonce: [UInt8],
                            clientID: String) -> [UInt8] {
        let input = Self.cookieInput(address: address, epoch: epoch, clientNonce: clientNonce, clientID: clientID)
        return cryptography.hmacSHA256(key: secret, message: Self.label("server nonce") + input)
    }

    /// `SHA-256("relayd-rudp transcript" ‖ version ‖ client nonce ‖ len ‖ client id ‖ server nonce ‖ epoch ‖
    /// cookie MAC)`: what both proofs and the keys are bound to.
    public func transcript(clientNonce: [UInt8], clientID: String, serverNonce: [UInt8],
                           cookie: ReliableCookie) -> [UInt8] {
        var writer = ReliableByteWriter(capacity: 160)
        writer.append(Self.label("transcript"))
        writer.u8(ReliableWire.version)
        writer.append(clientNonce)
        let id = Array(clientID.utf8)
        writer.u8(UInt8(truncatingIfNeeded: id.count))
        writer.append(id)
        writer.append(serverNonce)
        cookie.write(to: &writer)
        return cryptography.sha256(writer.bytes)
    }

    /// `HMAC(key, "relayd-rudp client proof" ‖ transcript)`: RESPONSE's proof.
    public func clientProof(key: [UInt8], transcript: [UInt8]) -> [UInt8] {
        cryptography.hmacSHA256(key: key, message: Self.label("client proof") + transcript)
    }

    /// `HMAC(key, "relayd-rudp server proof" ‖ transcript ‖ session id ‖ parameters)`: WELCOME's proof.
    public func serverProof(key: [UInt8], transcript: [UInt8], sessionID: UInt64,
                            parameters: ReliableSessionParameters) -> [UInt8] {
        cryptography.hmacSHA256(
            key: key, message: Self.label("server proof") + transcript + Self.bytes(sessionID) + parameters.encoded)
    }

    /// The first 8 bytes of `HMAC(secret, "relayd-rudp session id" ‖ transcript)`, big-endian, 1 if that is 0.
    /// Derived, not drawn, so the server can answer a repeated RESPONSE with the same WELCOME without storing it.
    public func sessionID(secret: [UInt8], transcript: [UInt8]) -> UInt64 {
        let mac = cryptography.hmacSHA256(key: secret, message: Self.label("session id") + transcript)
        var value: UInt64 = 0
        for byte in mac.prefix(8) { value = value << 8 | UInt64(byte) }
        return value == 0 ? 1 : value
    }

    /// The two session keys: HKDF-SHA256 with the pre-shared key as input, `client nonce ‖ server nonce` as
    /// salt, and `"relayd-rudp c2s"` or `"relayd-rudp s2c"` ‖ transcript ‖ session id ‖ parameters as info.
    public func sessionKeys(key: [UInt8], clientNonce: [UInt8], serverNonce: [UInt8], transcript: [UInt8],
                            sessionID: UInt64, parameters: ReliableSessionParameters)
        -> (clientToServer: [UInt8], serverToClient: [UInt8])
    {
        let salt = clientNonce + serverNonce
        let context = transcript + Self.bytes(sessionID) + parameters.encoded
        let c2s = cryptography.hkdfSHA256(
            inputKey: key, salt: salt, info: Self.label("c2s") + context, outputCount: ReliableWire.keySize)
        let s2c = cryptography.hkdfSHA256(
            inputKey: key, salt: salt, info: Self.label("s2c") + context, outputCount: ReliableWire.keySize)
        return (c2s, s2c)
    }

    /// `"relayd-rudp "` followed by `name`, in ASCII.
    static func label(_ name: String) -> [UInt8] {
        Array("relayd-rudp \(name)".utf8)
    }

    /// Eight big-endian bytes.
    static func bytes(_ value: UInt64) -> [UInt8] {
        var writer = ReliableByteWriter(capacity: 8)
        writer.u64(value)
        return writer.bytes
    }
}
