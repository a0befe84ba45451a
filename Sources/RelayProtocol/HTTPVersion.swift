/// The protocol version of a request: the two HTTP/1 versions the parser accepts.
///
/// Anything else that looks like a version (`HTTP/2.0`, `HTTP/1.2`, the HTTP/2 connection preface) is answered
/// with 505; the version decides the default of `HTTPRequest.keepAlive` and whether `Host` is required.
public enum HTTPVersion: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// `HTTP/1.0`: connections close after each response unless the client asks for keep-alive.
    case http1_0
    /// `HTTP/1.1`: connections persist unless either side sends `Connection: close`.
    case http1_1

    /// The version as it appears on the wire, such as `HTTP/1.1`.
    public var description: String {
        switch self {
        case .http1_0: "HTTP/1.0"
        case .http1_1: "HTTP/1.1"
        }
    }
}
