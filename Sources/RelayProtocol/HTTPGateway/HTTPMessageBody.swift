/// How the body of a message a proxy forwards is delimited (RFC 9112 §6.3), decided from its head alone, so the
/// proxy can pass the body on as it arrives and know where the next message starts.
public enum HTTPMessageBody: Sendable, Equatable {
    /// No body: the next message starts right after the head.
    case none
    /// `Content-Length`: exactly this many bytes.
    case length(Int)
    /// `Transfer-Encoding: chunked`: chunks, a last chunk and a trailer section, forwarded as they are.
    case chunked
    /// A response without a length: the body ends when the server closes the connection.
    case untilClose
}
