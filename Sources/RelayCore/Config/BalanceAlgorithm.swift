/// How a backend group picks the server for a new connection; the `balance` key of a group.
///
/// Every algorithm picks among the servers the group's selector has made active, never among servers that are
/// down.
public enum BalanceAlgorithm: String, Sendable, CaseIterable {
    /// Each new connection goes to the next server in the list, wrapping around: even spread, no state to share.
    case roundRobin = "round_robin"
    /// Like round robin, but each server gets connections in proportion to its `weight`, spread out rather than
    /// in bursts.
    case weighted
    /// The server with the fewest connections open right now: adapts to servers of different speed and to
    /// long-lived connections.
    case leastConnections = "least_connections"
    /// A server chosen at random: no state shared between connections.
    case random
    /// Two servers chosen at random, and the one with the lower latency estimate times open connections wins
    /// ("power of two choices"): steers away from slow servers without herding onto the fastest.
    case p2cEWMA = "p2c_ewma"
    /// A consistent hash of the client's IP address, so a client keeps reaching the same server while the set
    /// of servers stays the same, and few clients move when it changes.
    case hash
    /// Two servers chosen at random, and the one with fewer requests in flight (http listeners; connections on
    /// tcp listeners) wins: seed 003's queue-length balancing.
    case leastRequests = "least_requests"
}
