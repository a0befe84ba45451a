/// What a rate limit says about one new connection, flow, handshake or datagram.
public enum RateDecision: Sendable, Equatable {
    /// Within every limit: go on (a token was taken from each bucket that applies).
    case allowed
    /// Over the limit of `scope`: refuse or drop it, and count it.
    case limited(RateLimitScope)
}
