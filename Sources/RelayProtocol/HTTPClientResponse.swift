/// A response as an HTTP/1.1 client receives it (`HTTPResponseParser`): status, header fields, the whole body
/// with any chunked framing removed, and whether the connection may carry the next request.
public struct HTTPClientResponse: Sendable, Equatable {
    /// The status code, 100…599.
    public var status: Int
    /// The header fields in wire order.
    public var headers: HTTPHeaders
    /// The body, de-chunked.
    public var body: [UInt8]
    /// False when the server said `Connection: close`, answered in HTTP/1.0 without keep-alive, or delimited the
    /// body by closing the connection.
    public var keepAlive: Bool

    public init(status: Int, headers: HTTPHeaders, body: [UInt8], keepAlive: Bool) {
        self.status = status
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}
