/// How a request's body is delimited, decided from its `Content-Length` and `Transfer-Encoding` fields.
enum HTTPBodyFraming: Equatable {
    /// Neither field: the request has no body, and the next request starts right after the head.
    case none
    /// `Content-Length`: exactly this many bytes follow the head.
    case length(Int)
    /// `Transfer-Encoding: chunked`: chunks follow until a zero-size chunk and the trailer section.
    case chunked
}
