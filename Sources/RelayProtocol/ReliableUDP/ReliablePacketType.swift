/// The type byte (offset 5) of a reliable-UDP packet.
///
/// Handshake types (1–5) have their own layouts; session types (16–20) share the 44-byte header and end with a
/// tag. HELLO is 1 and REFUSED is 5 in every version, so a server can refuse a version it does not know.
public enum ReliablePacketType: UInt8, Sendable, CaseIterable {
    /// Client → server: client nonce and client id, padded.
    case hello = 1
    /// Server → client: server nonce and stateless cookie.
    case challenge = 2
    /// Client → server: the cookie back, and a proof of the client's key over the transcript.
    case response = 3
    /// Server → client: the session id, the session's parameters and the server's proof of the same key.
    case welcome = 4
    /// Server → client: the handshake is refused, and why.
    case refused = 5
    /// A message fragment; ack-eliciting and retransmitted until acknowledged.
    case data = 16
    /// Acknowledgements only.
    case ack = 17
    /// Keep-alive or probe: ack-eliciting, answered at once with PONG.
    case ping = 18
    /// The answer to PING: acknowledgements only.
    case pong = 19
    /// The session ends, with a reason.
    case close = 20

    /// True for the types that carry the session header and a tag.
    public var isSessionPacket: Bool { rawValue >= 16 }
}
