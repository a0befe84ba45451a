/// Why a call to etcd failed: it could not be reached, it refused the call, or its answer made no sense. Every
/// case counts in `relayd_cluster_etcd_errors_total`, and a leader steps down on any failed keepalive.
public enum EtcdError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No endpoint could be reached, or the connection failed mid-call (connect refused, timed out, reset).
    case unreachable(String)
    /// An HTTP status other than 200 with etcd's message, when it gave one.
    case status(Int, String)
    /// etcd answered 200 with an error object (`{"error": …}`).
    case server(String)
    /// The reply is not the JSON this call expects.
    case malformed(String)

    public var description: String {
        switch self {
        case let .unreachable(reason): "etcd unreachable: \(reason)"
        case let .status(code, message): "etcd answered HTTP \(code): \(message)"
        case let .server(message): "etcd refused the call: \(message)"
        case let .malformed(reason): "etcd's reply is not understood: \(reason)"
        }
    }
}
