/// Which part of a listener's `rate_limit` refused something: the label of the rate-limit metrics.
public enum RateLimitScope: String, Sendable, CaseIterable {
    /// New connections, flows or handshakes from one client IP (`per_ip`).
    case perIP = "per_ip"
    /// New connections, flows or handshakes from all clients together (`total`).
    case total
    /// Datagrams from one client IP (`packets_per_ip`, datagram listeners only).
    case packetsPerIP = "packets_per_ip"

    /// Whether the scope keeps a bucket per client address (and so a table whose size is worth watching).
    public var isPerAddress: Bool { self != .total }
}
