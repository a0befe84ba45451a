/// How a TCP connection through a listener ended, as the access log, `relayd_connections_closed_total{end}`
/// and the admin API name it.
public enum ConnectionEnd: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Both sides finished (end of stream each way).
    case closed
    /// Reading or writing failed on either side; both were reset.
    case error
    /// Cancelled by a drain timeout or a shutdown.
    case cancelled
    /// No server of the group accepted the connection.
    case noBackend = "no_backend"
    /// relayd itself ran short of file descriptors, memory or local ports; no server was blamed.
    case localResources = "local_resources"
    /// No byte either way for the listener's `idle_timeout`.
    case idle
    /// The client sent nothing for the listener's `first_byte_timeout` after connecting.
    case clientTimeout = "client_timeout"
    /// `accept_proxy`: the connection did not start with a valid PROXY header in time, or came from a peer not in
    /// `proxy_trusted` while the header is required.
    case badProxyHeader = "bad_proxy_header"

    public var description: String { rawValue }

    /// A small code for atomics.
    var code: UInt8 {
        switch self {
        case .closed: 1
        case .error: 2
        case .cancelled: 3
        case .noBackend: 4
        case .localResources: 5
        case .idle: 6
        case .clientTimeout: 7
        case .badProxyHeader: 8
        }
    }
}
