/// Why a listener refused a connection: each reason gets its own access-log budget.
enum ConnectionRefusal: String, Sendable, CaseIterable {
    case maxConnections = "max_connections"
    case maxConnectionsPerIP = "max_connections_per_ip"
    case noBackend = "no_backend"
    case localResources = "local_resources"
    /// Over the listener's `rate_limit` (`per_ip` or `total`) for new connections.
    case rateLimited = "rate_limited"
    /// `accept_proxy`: no valid PROXY header, or one from a peer not in `proxy_trusted`.
    case badProxyHeader = "bad_proxy_header"

    /// The refusal a connection's ending stands for, if it is one.
    init?(_ end: ConnectionEnd) {
        switch end {
        case .noBackend: self = .noBackend
        case .localResources: self = .localResources
        case .badProxyHeader: self = .badProxyHeader
        default: return nil
        }
    }
}
