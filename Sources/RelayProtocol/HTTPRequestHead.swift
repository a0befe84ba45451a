/// The part of a request before its body, parsed: the request line, the decoded target and the header fields.
struct HTTPRequestHead {
    /// The method, as sent.
    var method: String
    /// The request-target, as sent.
    var target: String
    /// The target's decoded path, segments and query.
    var decodedTarget: HTTPRequestTarget
    /// The version from the request line.
    var version: HTTPVersion
    /// The header fields in wire order.
    var headers: HTTPHeaders
    /// The buffer offset just past the blank line that ends the head: where the body (or the next request) starts.
    var end: Int
}
