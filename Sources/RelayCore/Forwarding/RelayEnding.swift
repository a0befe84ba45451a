/// How one direction of a relayed connection ended.
public enum RelayEnding: Sendable, Equatable {
    /// The source sent FIN; it was passed on as a half-close.
    case endOfStream
    /// Reading the source or writing the destination failed; both sockets were aborted.
    case failed(String)
    /// The relay was cancelled (drain timeout, shutdown).
    case cancelled
}
