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
    public let expectsContinue: Bool
    /// An upgrade request (`Connection: upgrade` with an `Upgrade` field, WebSocket's handshake among them).
    public let isUpgrade: Bool
    /// The `Host` field, lower-cased and without its port, or nil.
    public let host: String?
    /// Whether the client sent an `X-Request-Id`.
    public let hasRequestID: Bool

    /// Reads what the proxy asks of a head once, in one pass over its fields, instead of a search per question.
    init(method: String, target: String, version: HTTPVersion, headers: HTTPHeaders, body: HTTPMessageBody,
         headLength: Int) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.headLength = headLength
        var close = false
        var keepAliveToken = false
        var upgradeToken = false
        var upgradeField = false
        var expects = false
        var host: String?
        var requestID = false
        for field in headers {
            let name = field.name
            switch name.utf8.count {
            case 4 where HTTPHeaders.namesMatch(name, "Host"):
                host = host ?? HTTPProxyRequest.hostName(field.value)
            case 6 where HTTPHeaders.namesMatch(name, "Expect"):
                if HTTPHeaders.namesMatch(HTTPSyntax.trimmingWhitespace(field.value), "100-continue") { expects = true }
            case 7 where HTTPHeaders.namesMatch(name, "Upgrade"):
                upgradeField = true
            case 10 where HTTPHeaders.namesMatch(name, "Connection"):
                for element in field.value.split(separator: ",") {
                    let token = HTTPSyntax.trimmingWhitespace(element)
                    if HTTPHeaders.namesMatch(token, "close") { close = true }
                    else if HTTPHeaders.namesMatch(token, "keep-alive") { keepAliveToken = true }
                    else if HTTPHeaders.namesMatch(token, "upgrade") { upgradeToken = true }
                }
            case 12 where HTTPHeaders.namesMatch(name, "X-Request-Id"):
                requestID = true
            default:
                break
            }
        }
        keepAlive = !close && (version == .http1_1 || keepAliveToken)
        isUpgrade = upgradeField && upgradeToken
        expectsContinue = expects
        self.host = host
        hasRequestID = requestID
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

/// A response head as a proxy sees it: its status and framing, and its field lines as received, each marked when
/// it is hop-by-hop, so the head can be forwarded by copying lines instead of rebuilding fields.
public struct HTTPProxyResponse: Sendable, Equatable {
    /// One field line of `head`: its bytes (without CRLF), where its name ends, and whether it describes only the
    /// server's connection (RFC 9110 §7.6.1: `Connection`, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`,
    /// `Upgrade`, and the names `Connection` lists).
    public struct Line: Sendable, Equatable {
        public let start: Int
        public let end: Int
        public let colon: Int
        public let hopByHop: Bool
    }

    /// The status code.
    public var status: Int
    /// The reason phrase, as sent.
    public var reason: String
    /// HTTP/1.1 (true) or HTTP/1.0.
    public var version11: Bool
    /// How the body is delimited, given the request it answers.
    public var body: HTTPMessageBody
    /// Whether the server keeps the connection open after this response.
    public var keepAlive: Bool
    /// The bytes of the head, its blank line included.
    public var headLength: Int
    /// The head as received.
    public let head: [UInt8]
    /// Its field lines, in order.
    public let lines: [Line]
    /// The `Upgrade` field's value, when there is one.
    public let upgrade: String?

    /// An interim (1xx) response other than 101: another head follows.
    public var isInterim: Bool { (100..<200).contains(status) && status != 101 }

    /// The header fields, as strings (built on demand: forwarding copies `lines`).
    public var headers: HTTPHeaders {
        HTTPHeaders(lines.map { line in
            var valueStart = line.colon + 1
            var valueEnd = line.end
            while valueStart < valueEnd, HTTPSyntax.isWhitespace(head[valueStart]) { valueStart += 1 }
            while valueEnd > valueStart, HTTPSyntax.isWhitespace(head[valueEnd - 1]) { valueEnd -= 1 }
            return HTTPHeader(name: String(decoding: head[line.start..<line.colon], as: UTF8.self),
                              value: String(decoding: head[valueStart..<valueEnd], as: UTF8.self))
        })
    }
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
        return HTTPProxyRequest(method: head.method, target: head.target, version: head.version, headers: head.headers,
                                body: body, headLength: head.end)
    }
}

extension HTTPResponseParser {
    /// The head of the response at the start of `bytes`, answering a request with `method`: nil when it has not
    /// ended yet. The body is not read (a proxy streams it): `body` says how it is delimited (RFC 9112 §6.3).
    /// The checks are those of `parse`; no field becomes a string but the few that decide the framing.
    public func parseProxyHead(_ bytes: UnsafeRawBufferPointer, requestMethod method: String)
        throws(HTTPParseError) -> HTTPProxyResponse?
    {
        guard let (version11, status, reason, ranges, position) = try scanHead(bytes) else { return nil }
        var contentLengths: [String] = []
        var transferCodings: [String] = []
        var close = false
        var keepAliveToken = false
        var listed: [[UInt8]] = []
        var upgrade: String?
        var hop = [Bool](repeating: false, count: ranges.count)
        for (index, range) in ranges.enumerated() {
            let name = UnsafeRawBufferPointer(rebasing: bytes[range.name])
            switch name.count {
            case 14 where Self.equalsLower(name, "content-length"):
                contentLengths.append(HTTPSyntax.string(bytes, range.value))
            case 17 where Self.equalsLower(name, "transfer-encoding"):
                for coding in HTTPSyntax.string(bytes, range.value).split(separator: ",") {
                    let trimmed = HTTPSyntax.trimmingWhitespace(coding).lowercased()
                    if !trimmed.isEmpty { transferCodings.append(trimmed) }
                }
            case 10 where Self.equalsLower(name, "connection"):
                hop[index] = true
                for token in UnsafeRawBufferPointer(rebasing: bytes[range.value]).split(separator: UInt8(ascii: ",")) {
                    var start = token.startIndex
                    var end = token.endIndex
                    while start < end, HTTPSyntax.isWhitespace(token[start]) { start += 1 }
                    while end > start, HTTPSyntax.isWhitespace(token[end - 1]) { end -= 1 }
                    let lowered = token[start..<end].map(HTTPSyntax.lowercased)
                    if lowered == Array("close".utf8) { close = true }
                    else if lowered == Array("keep-alive".utf8) { keepAliveToken = true }
                    else if !lowered.isEmpty { listed.append(lowered) }
                }
            case 7 where Self.equalsLower(name, "upgrade"):
                hop[index] = true
                upgrade = HTTPSyntax.string(bytes, range.value)
            case 10 where Self.equalsLower(name, "keep-alive"), 16 where Self.equalsLower(name, "proxy-connection"),
                 2 where Self.equalsLower(name, "te"), 7 where Self.equalsLower(name, "trailer"):
                hop[index] = true
            default:
                break
            }
        }
        if !listed.isEmpty {
            for (index, range) in ranges.enumerated() where !hop[index] {
                let name = bytes[range.name].map(HTTPSyntax.lowercased)
                if listed.contains(name) { hop[index] = true }
            }
        }
        var keepAlive = version11 ? !close : keepAliveToken
        let body: HTTPMessageBody
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 {
            body = .none
        } else if !transferCodings.isEmpty || ranges.contains(where: { range in
            range.name.count == 17 && Self.equalsLower(UnsafeRawBufferPointer(rebasing: bytes[range.name]), "transfer-encoding")
        }) {
            // RFC 9112 §6.3: chunked last is chunked; any other final coding runs until the close.
            body = transferCodings.last == "chunked" ? .chunked : .untilClose
        } else if let first = contentLengths.first {
            let digits = try fields.significantDigits(ofContentLength: first)
            for other in contentLengths.dropFirst() {
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
        let lines = ranges.enumerated().map { index, range in
            HTTPProxyResponse.Line(start: range.line.lowerBound, end: range.line.upperBound,
                                   colon: range.name.upperBound, hopByHop: hop[index])
        }
        return HTTPProxyResponse(status: status, reason: reason, version11: version11, body: body,
                                 keepAlive: keepAlive, headLength: position, head: Array(bytes[0..<position]),
                                 lines: lines, upgrade: upgrade)
    }

    /// Whether `bytes` spell `lower` (lower-case ASCII) in any case.
    @inline(__always)
    static func equalsLower(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let expected = lower.utf8Start
        for index in 0..<bytes.count where HTTPSyntax.lowercased(bytes[index]) != expected[index] { return false }
        return true
    }
}
