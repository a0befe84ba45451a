/// What became of a handshake packet at a reliable-UDP listener: the `result` label of
/// `relayd_reliable_handshakes_total`.
public enum ReliableHandshakeResult: String, Sendable, CaseIterable {
    /// A HELLO answered with CHALLENGE.
    case challenged
    /// A RESPONSE that authenticated and made a session (answered with WELCOME).
    case established
    /// A RESPONSE seen before: WELCOME sent again while the session had not heard from its client, else ignored.
    case repeated
    /// Refused: unknown client id or wrong key.
    case badAuth = "bad_auth"
    /// Refused: the listener holds `max_sessions` sessions (or is shutting down).
    case serverFull = "server_full"
    /// Refused: the client's address is over `rate_limit`.
    case rateLimited = "rate_limited"
    /// Refused: a HELLO of another protocol version.
    case unsupportedVersion = "unsupported_version"
    /// Refused: a RESPONSE whose cookie is older than the previous secret.
    case expiredCookie = "expired_cookie"
    /// Dropped: a RESPONSE whose cookie does not verify (forged, altered, or from another address).
    case badCookie = "bad_cookie"
    /// Dropped: a HELLO or RESPONSE whose fields do not parse.
    case malformed
    /// Authenticated, but no server of the group could be reached: WELCOME and at once CLOSE "internal error".
    case noBackend = "no_backend"
}
