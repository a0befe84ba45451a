/// The servers a group may send new connections to, as last published by its Selector.
///
/// Immutable: the Selector builds a new one and swaps it in; the hot path reads the current one with a
/// single lock-protected load and never waits for the Selector.
public final class ActiveSet: Sendable {
    /// The servers, best first (by score at the time of publication).
    public let servers: [ServerHandle]
    /// Increases with every publication, so balancers can rebuild per-set state (hash rings, weights).
    public let generation: UInt64

    public init(servers: [ServerHandle], generation: UInt64) {
        self.servers = servers
        self.generation = generation
    }

    public static let empty = ActiveSet(servers: [], generation: 0)
}
