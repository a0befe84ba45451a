/// One parsed HTTP/1 request: its line, its fields, its body and what it implies for the connection.
///
/// The target is kept raw and also decoded, so the router can match on `pathSegments` (where an encoded `/` stays
/// inside its segment) while logs show `target` exactly as sent.
public struct HTTPRequest: Sendable, Equatable {
    /// The method as sent; methods are case-sensitive, so `get` is not `GET`.
    public var method: String
    /// The request-target as sent, such as `/backends/web/1.2.3.4:80/drain?x=1`, or `*` for `OPTIONS *`.
    public var target: String
    /// The percent-decoded path without the query, such as `/backends/web/1.2.3.4:80/drain`; an encoded `%2F`
    /// becomes `/` here, so route on `pathSegments` instead. `*` for `OPTIONS *`.
    public var path: String
    /// The path split at `/` before decoding, each part then decoded, empty parts dropped: `/a//b%2Fc/` gives
    /// `["a", "b/c"]`. `.` and `..` are kept as they are; nothing here refers to files.
    public var pathSegments: [String]
    /// The decoded `name=value` pairs of the query, in order, with `+` read as a space.
    public var query: [HTTPQueryItem]
    /// The protocol version of the request line.
    public var version: HTTPVersion
    /// The header fields in wire order, looked up without regard to case.
    public var headers: HTTPHeaders
    /// The body with any chunked framing removed; empty when the request has no `Content-Length` or
    /// `Transfer-Encoding`.
    public var body: [UInt8]
    /// Whether the client expects the connection to stay open after the response: for HTTP/1.1 unless it sent
    /// `Connection: close`, for HTTP/1.0 only if it sent `Connection: keep-alive` (and not `close`).
    public var keepAlive: Bool

    /// A request with every field given; `HTTPRequestParser` is the usual way to get one.
    public init(
        method: String,
        target: String,
        path: String,
        pathSegments: [String],
        query: [HTTPQueryItem] = [],
        version: HTTPVersion = .http1_1,
        headers: HTTPHeaders = [:],
        body: [UInt8] = [],
        keepAlive: Bool = true
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.pathSegments = pathSegments
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }

    /// The value of the first query pair called `name` (exact case), or nil.
    public func queryValue(_ name: String) -> String? {
        query.first { $0.name == name }?.value
    }
}
