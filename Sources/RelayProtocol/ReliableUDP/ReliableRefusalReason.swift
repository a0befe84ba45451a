/// Why the server refused a handshake: REFUSED's reason byte.
public enum ReliableRefusalReason: UInt8, Sendable, CaseIterable {
    /// The listener holds `max_sessions` sessions; try later (retry-after says when, if the server knows).
    case serverFull = 1
    /// The client's address sent more handshakes than the rate limit allows; try after retry-after.
    case rateLimited = 2
    /// Unknown client id or wrong key. The same answer for both, so ids cannot be probed.
    case badAuth = 3
    /// The server does not speak the HELLO's version; REFUSED's version byte says which it does.
    case unsupportedVersion = 4
    /// The RESPONSE's cookie is older than the previous secret: start again with HELLO.
    case expiredCookie = 5
}
