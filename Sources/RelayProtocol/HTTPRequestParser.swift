/// Parses one HTTP/1.0 or HTTP/1.1 request from the start of a byte buffer (RFC 9112), strictly and within
/// `HTTPLimits`.
///
/// The parser holds no state between calls: give it everything buffered so far, and it answers `.needMore`,
/// one `.request` with the number of bytes it used, or `.invalid` with the status to answer. It is strict in the
/// ways that matter for an admin endpoint reached by curl, scripts and Prometheus:
///
/// - Lines end with CRLF. A bare LF is refused (400) like a bare CR, so that every component on the path agrees
///   on where a line ends; up to two empty lines before the request line are skipped, as RFC 9112 §2.2 allows.
/// - The request-target is origin-form (`/path?query`), or `*` for `OPTIONS`. Absolute-form (`http://host/path`,
///   which only proxies need) and authority-form (`CONNECT`) are refused with 400.
/// - The version is `HTTP/1.0` or `HTTP/1.1`; other versions, the HTTP/2 preface included, get 505.
/// - An HTTP/1.1 request needs exactly one `Host` (RFC 9112 §3.2); no request may have two.
/// - The body is framed by `Content-Length` or by `Transfer-Encoding: chunked`, which is decoded within
///   `maxBodyBytes` and `maxChunkedFramingBytes`; trailer fields are checked and dropped. A final coding other
///   than chunked is 400 (the length is unknowable); another coding before chunked (`gzip, chunked`) is 501.
///
/// Each call rescans from the start of the buffer, but only the head and the chunked framing are scanned, never
/// the bytes of a body, and both are bounded by the limits: a call costs at most about `maxHeaderBytes +
/// maxChunkedFramingBytes` byte steps until the request is complete, then one copy of the body.
public struct HTTPRequestParser: Sendable {
    /// The bounds every request must respect, with negative values raised to zero and huge ones lowered to 2^40.
    public let limits: HTTPLimits

    /// How many empty lines before a request line are skipped; a client may send a stray CRLF after a body.
    static let maxLeadingEmptyLines = 2

    /// A parser enforcing `limits`.
    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits.clamped
    }

    /// Parses the request at the start of `buffer`; the most direct form, for a server's own receive buffer.
    ///
    /// The buffer is only read during the call; the result owns copies of everything it holds.
    public func parse(_ buffer: UnsafeRawBufferPointer) -> HTTPParseResult {
        do throws(HTTPParseError) {
            guard let (request, consumed) = try parseRequest(buffer) else { return .needMore }
            return .request(request, consumed: consumed)
        } catch {
            return .invalid(error)
        }
    }

    /// Parses the request at the start of `bytes`.
    public func parse(_ bytes: [UInt8]) -> HTTPParseResult {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// Parses the request at the start of `bytes`; `consumed` counts from `bytes.startIndex`.
    public func parse(_ bytes: ArraySlice<UInt8>) -> HTTPParseResult {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// The whole request and the bytes it took, nil when more bytes are needed.
    func parseRequest(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> (HTTPRequest, Int)? {
        guard let head = try parseHead(bytes) else { return nil }
        try checkHost(head)
        let body: [UInt8]
        let end: Int
        switch try framing(of: head) {
        case .none:
            (body, end) = ([], head.end)
        case .length(let length):
            guard bytes.count - head.end >= length else { return nil }
            end = head.end + length
            body = HTTPSyntax.copy(bytes, head.end..<end)
        case .chunked:
            guard let (chunkedBody, chunkedEnd) = try parseChunkedBody(bytes, from: head.end) else { return nil }
            (body, end) = (chunkedBody, chunkedEnd)
        }
        let keepAlive =
            !head.headers.containsToken("close", in: "Connection")
            && (head.version == .http1_1 || head.headers.containsToken("keep-alive", in: "Connection"))
        let request = HTTPRequest(
            method: head.method,
            target: head.target,
            path: head.decodedTarget.path,
            pathSegments: head.decodedTarget.pathSegments,
            query: head.decodedTarget.query,
            version: head.version,
            headers: head.headers,
            body: body,
            keepAlive: keepAlive
        )
        return (request, end)
    }

    /// The request line and header fields, nil when the blank line ending them has not arrived yet.
    func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPRequestHead? {
        guard let scanned = try scanHead(bytes) else { return nil }
        let decoded: HTTPRequestTarget
        if HTTPSyntax.equals(bytes, scanned.target, "*") {
            decoded = HTTPRequestTarget(path: "*", pathSegments: [], query: [])
        } else {
            decoded = try HTTPRequestTarget(originForm: bytes, scanned.target)
        }
        return HTTPRequestHead(
            method: HTTPSyntax.string(bytes, scanned.method),
            target: HTTPSyntax.string(bytes, scanned.target),
            decodedTarget: decoded,
            version: scanned.version,
            headers: HTTPHeaders(scanned.fields.map { field in
                HTTPHeader(name: HTTPSyntax.string(bytes, field.name), value: HTTPSyntax.string(bytes, field.value))
            }),
            end: scanned.end
        )
    }

    /// One checked field line: the line (without CRLF), its name and its trimmed value.
    typealias FieldRanges = (line: Range<Int>, name: Range<Int>, value: Range<Int>)

    /// Where the request line's parts and each field line are, at the start of `bytes`; nil until the blank line
    /// ending the head arrives. Nothing is copied.
    ///
    /// Every complete line is checked as soon as it is seen, so a bad request line is refused before its
    /// headers arrive, and the limits are applied to the bytes present, not to the head once complete. The
    /// target's escapes are checked here too (decoded and thrown away when there are any).
    func scanHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError)
        -> (method: Range<Int>, target: Range<Int>, version: HTTPVersion, fields: [FieldRanges], end: Int)?
    {
        var start = 0
        var skipped = 0
        while start < bytes.count, skipped < HTTPRequestParser.maxLeadingEmptyLines {
            guard bytes[start] == HTTPSyntax.cr || bytes[start] == HTTPSyntax.lf else { break }
            guard case .found = try HTTPLineEnd.find(in: bytes, from: start, maxLength: 0) else { return nil }
            start += 2
            skipped += 1
        }
        let headStart = start

        let lineEnd: Int
        switch try HTTPLineEnd.find(in: bytes, from: headStart, maxLength: limits.maxRequestLineBytes) {
        case .found(let end): lineEnd = end
        case .incomplete:
            try checkIncompleteHead(bytes, from: headStart)
            return nil
        case .tooLong:
            throw HTTPParseError(
                status: 414, reason: "the request line is longer than \(limits.maxRequestLineBytes) bytes")
        }
        let (method, target, version) = try checkRequestLine(bytes, headStart..<lineEnd)
        if HTTPSyntax.firstIndex(of: UInt8(ascii: "%"), in: bytes, target) != nil {
            _ = try HTTPRequestTarget(originForm: bytes, target)
        }

        var position = lineEnd + 2
        var fields: [FieldRanges] = []
        fields.reserveCapacity(16)
        while true {
            // The longest this line can be and still leave room for its CRLF within the limit.
            let room = limits.maxHeaderBytes - (position - headStart) - 2
            switch try HTTPLineEnd.find(in: bytes, from: position, maxLength: room) {
            case .incomplete:
                try checkIncompleteHead(bytes, from: headStart)
                return nil
            case .tooLong:
                throw HTTPParseError(status: 431, reason: "the head is larger than \(limits.maxHeaderBytes) bytes")
            case .found(let end) where end == position:
                return (method, target, version, fields, end + 2)
            case .found(let end):
                guard fields.count < limits.maxHeaderCount else {
                    throw HTTPParseError(status: 431, reason: "more than \(limits.maxHeaderCount) header fields")
                }
                let (name, value) = try checkFieldLine(bytes, position..<end, number: fields.count + 1, kind: "header")
                fields.append((position..<end, name, value))
                position = end + 2
            }
        }
    }

    /// Nothing (more bytes needed) for a head that has not ended yet, or 431 when the bytes present already fill
    /// the limit: the head would be longer than that once its end arrives.
    private func checkIncompleteHead(_ bytes: UnsafeRawBufferPointer, from headStart: Int) throws(HTTPParseError) {
        guard bytes.count - headStart < limits.maxHeaderBytes else {
            throw HTTPParseError(status: 431, reason: "the head is larger than \(limits.maxHeaderBytes) bytes")
        }
    }
}
