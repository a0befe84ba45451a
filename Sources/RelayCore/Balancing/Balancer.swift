import RelayIO

/// Picks the server for each new connection from a group's current active set.
///
/// A balancer serves one backend group. It sees the set the Selector last published and keeps
/// whatever per-set state it needs (cursors, smooth-weight counters, hash rings) keyed by the set's
/// `generation`, so a new set must come with a new generation. Selection is separate from health:
/// the Selector decides which servers are in the set, the balancer only spreads load over them, and
/// the caller retries a failed connection with the failed servers in `excluded`.
public protocol Balancer: Sendable {
    /// The server for a new connection from `client`, skipping `excluded` (servers that already failed
    /// for this connection); nil when no server of `set` is left.
    ///
    /// Called on the hot path: never awaits, allocates nothing in the steady state (only when the set
    /// changes), and takes at most a short lock or a few atomics.
    func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle?
}
