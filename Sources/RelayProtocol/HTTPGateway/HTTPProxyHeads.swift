/// A request head as a proxy sees it: what routing, balancing and forwarding need, and where the body starts.
public struct HTTPProxyRequest: Sendable, Equatable {
    /// The method, as sent.
    public var method: String
    /// The request-target, as sent (origin-form, or `*`).
    public var target: String
    /// The version from the request line.
    public var version: HTTPVersion
    /// The header fields in wire order.
    public var headers: HTTPHeaders
    /// How the body is delimited.
    public var body: HTTPMessageBody
    /// Whether the client keeps the connection open after the response (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// The bytes of the head, its blank line included: the body starts there.
    public var headLength: Int

    /// The target's path, before any `?`, as sent (not decoded): what routes match.
    public var path: Substring {
        target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? Substring(target)
    }

    /// `Expect: 100-continue`: the client waits for an interim response before it sends the body.
    public var expectsContinue: Bool {
        headers.values(for: "Expect").contains { HTTPHeaders.namesMatch(HTTPSyntax.trimmingWhitespace($0), "100-continue") }
    }

    /// An upgrade request (`Connection: upgrade` with an `Upgrade` field, WebSocket's handshake among them).
    public var isUpgrade: Bool {
        headers.contains("Upgrade") && headers.containsToken("upgrade", in: "Connection")
    }

    /// The `Host` field, lower-cased and without its port, or nil.
    public var host: String? {
        guard let value = headers["Host"] else { return nil }
        return HTTPProxyRequest.hostName(value)
    }

    /// Methods whose request can be sent again without changing the outcome (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE": true
        default: false
        }
    }

    /// `host[:port]` or `[v6]:port` → the lower-cased host.
    static func hostName(_ value: String) -> String {
        let text = value.lowercased()
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return text }
            return String(text[...close])
        }
        if let colon = text.lastIndex(of: ":") { return String(text[..<colon]) }
        return text
    }
}

/// A response head as a proxy sees it.
public struct HTTPProxyResponse: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// The reason phrase, as sent.
    public var reason: String
    /// HTTP/1.1 (true) or HTTP/1.0.
    public var version11: Bool
    /// The header fields in wire order.
    public var headers: HTTPHeaders
    /// How the body is delimited, given the request it answers.
    public var body: HTTPMessageBody
    /// Whether the server keeps the connection open after this response.
    public var keepAlive: Bool
    /// The bytes of the head, its blank line included.
    public var headLength: Int

    /// An interim (1xx) response other than 101: another head follows.
    public var isInterim: Bool { (100..<200).contains(status) && status != 101 }
}

extension HTTPRequestParser {
    /// The head of the request at the start of `bytes`, for a proxy that streams the body: nil when the head has
    /// not ended yet. Strict as `parse`, with the same limits on the head; a `Content-Length` is refused with
    /// 413 only above `maxBodyBytes`, and a chunked body is not read here at all (`HTTPChunkedScanner` follows it).
    public func parseProxyHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPProxyRequest? {
        guard let head = try parseHead(bytes) else { return nil }
        try checkHost(head)
        let body: HTTPMessageBody
        switch try framing(of: head) {
        case .none: body = .none
        case let .length(length): body = length == 0 ? .none : .length(length)
        case .chunked: body = .chunked
        }
        let keepAlive =
            !head.headers.containsToken("close", in: "Connection")
            && (head.version == .http1_1 || head.headers.containsToken("keep-alive", in: "Connection"))
        return HTTPProxyRequest(method: head.method, target: head.target, version: head.version, headers: head.headers,
                                body: body, keepAlive: keepAlive, headLength: head.end)
    }
}

extension HTTPResponseParser {
    /// The head of the response at the start of `bytes`, answering a request with `method`: nil when it has not
    /// ended yet. The body is not read (a proxy streams it): `body` says how it is delimited (RFC 9112 §6.3).
    public func parseProxyHead(_ bytes: UnsafeRawBufferPointer, requestMethod method: String)
        throws(HTTPParseError) -> HTTPProxyResponse?
    {
        guard let head = try parseHead(bytes) else { return nil }
        let headers = head.headers
        var keepAlive = head.version11 ? !headers.containsToken("close", in: "Connection")
                                       : headers.containsToken("keep-alive", in: "Connection")
        let body: HTTPMessageBody
        if method == "HEAD" || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
            body = .none
        } else if !headers.values(for: "Transfer-Encoding").isEmpty {
            let codings = headers.values(for: "Transfer-Encoding").flatMap { $0.split(separator: ",") }
                .map { HTTPSyntax.trimmingWhitespace($0).lowercased() }.filter { !$0.isEmpty }
            // RFC 9112 §6.3: chunked last is chunked; any other final coding runs until the close.
            body = codings.last == "chunked" ? .chunked : .untilClose
        } else if let first = headers.values(for: "Content-Length").first {
            let digits = try fields.significantDigits(ofContentLength: first)
            for other in headers.values(for: "Content-Length").dropFirst() {
                guard try fields.significantDigits(ofContentLength: other) == digits else {
                    throw .badRequest("Content-Length fields disagree")
                }
            }
            guard digits.count <= 13 else { throw HTTPParseError(status: 502, reason: "Content-Length is too large") }
            let length = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            body = length == 0 ? .none : .length(length)
        } else {
            body = .untilClose
        }
        if body == .untilClose { keepAlive = false }
        return HTTPProxyResponse(status: head.status, reason: head.reason, version11: head.version11,
                                 headers: headers, body: body, keepAlive: keepAlive, headLength: head.end)
    }
}
