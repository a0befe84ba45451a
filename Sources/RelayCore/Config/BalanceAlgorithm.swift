/// How a backend group picks the server for a new connection; the `balance` key of a group.
public enum BalanceAlgorithm: String, Sendable, CaseIterable {
    /// Each new connection goes to the next server in the list, wrapping around: even spread, no state to share.
    case roundRobin = "round_robin"
}
