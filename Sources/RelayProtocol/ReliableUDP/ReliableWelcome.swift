/// WELCOME, the server's answer to a valid RESPONSE: the session exists.
///
/// Layout after the prefix: echo (16), session id (8), parameters (7: flags, max packet size, idle timeout),
/// server proof (32). 69 bytes, smaller than any RESPONSE. `proof` is HMAC-SHA256 under the client's key over
/// the transcript, the session id and the parameters (`ReliableKeySchedule.serverProof`): only a server that
/// holds the same key can make it, so the client authenticates the server too.
public struct ReliableWelcome: Sendable, Equatable, Hashable {
    /// The first 16 bytes of the client nonce.
    public var echo: [UInt8]
    /// Names the session in every later packet's header; never zero.
    public var sessionID: UInt64
    /// The session's parameters.
    public var parameters: ReliableSessionParameters
    /// 32 bytes: the server's proof of the client's key.
    public var proof: [UInt8]

    /// A WELCOME with these fields.
    public init(echo: [UInt8], sessionID: UInt64, parameters: ReliableSessionParameters, proof: [UInt8]) {
        self.echo = echo
        self.sessionID = sessionID
        self.parameters = parameters
        self.proof = proof
    }

    /// The packet: `ReliableWire.welcomeSize` bytes.
    public func encode() -> [UInt8] {
        var writer = ReliableByteWriter(capacity: ReliableWire.welcomeSize)
        writer.prefix(.welcome)
        writer.append(echo)
        writer.u64(sessionID)
        writer.append(parameters.encoded)
        writer.append(proof)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws(ReliablePacketError) -> ReliableWelcome {
        try ReliablePacket.requireSize(bytes, exactly: ReliableWire.welcomeSize, .welcome)
        var reader = ReliableByteReader(bytes, offset: ReliableWire.prefixSize)
        guard let echo = reader.bytes(ReliableWire.echoSize), let id = reader.u64() else {
            throw .truncated(.welcome, needed: ReliableWire.welcomeSize, got: bytes.count)
        }
        guard id != 0 else { throw .invalidField(.welcome, "session id") }
        guard let parameters = ReliableSessionParameters.read(from: &reader) else {
            throw .invalidField(.welcome, "parameters")
        }
        guard let proof = reader.bytes(ReliableWire.macSize) else {
            throw .truncated(.welcome, needed: ReliableWire.welcomeSize, got: bytes.count)
        }
        return ReliableWelcome(echo: echo, sessionID: id, parameters: parameters, proof: proof)
    }
}
