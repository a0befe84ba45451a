/// A response for the admin API, and its encoding as HTTP/1.1 bytes.
///
/// The encoder owns the framing: it always writes `Content-Length` (never chunked, since every body is in
/// memory) and `Connection`, so a handler cannot produce a response whose length a client would misread.
public struct HTTPResponse: Sendable {
    /// The status code, such as 200 or 404.
    public var status: Int
    /// Header fields in the order they are written. `Content-Length`, `Connection` and `Transfer-Encoding` here
    /// are ignored: the encoder writes the framing fields itself.
    public var headers: [(String, String)]
    /// The body, sent as is after the head.
    public var body: [UInt8]

    /// A response with this status, fields and body.
    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is `text`, already JSON, typed `application/json; charset=utf-8`.
    public static func json(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "application/json; charset=utf-8")], body: Array(text.utf8))
    }

    /// A response whose body is `text` as UTF-8, typed `contentType`.
    public static func text(_ status: Int, _ text: String, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    /// An error as JSON, `{"error":"message","status":404}` and a newline, the message escaped so any text is
    /// safe to pass.
    public static func error(_ status: Int, _ message: String) -> HTTPResponse {
        json(status, "{\"error\":\(jsonQuoted(message)),\"status\":\(status)}\n")
    }

    /// The answer to a request the parser refused: its status, with its reason as the message.
    public static func error(_ parseError: HTTPParseError) -> HTTPResponse {
        error(parseError.status, parseError.reason)
    }

    /// The response as bytes: status line, fields, `Content-Length`, `Connection`, a blank line and the body.
    ///
    /// - `keepAlive` writes `Connection: keep-alive` or `Connection: close`; the server must then do as it says.
    /// - `extraHeaders` are written after `headers`, for fields the server adds to every response (`Date`,
    ///   `Server`).
    /// - `omitBody` leaves the body out but keeps its `Content-Length`, as the answer to a `HEAD` request must.
    ///
    /// Responses that cannot have a body (1xx, 204, 304) get neither a body nor `Content-Length`, as RFC 9110
    /// §8.6 requires. A status outside 100–999 is written as 500. A field whose name is not a token is dropped,
    /// and control characters in a value become spaces, so no value can end a line early and inject a field.
    public func encode(keepAlive: Bool, extraHeaders: [(String, String)] = [], omitBody: Bool = false) -> [UInt8] {
        let code = (100...999).contains(status) ? status : 500
        let bodyless = code < 200 || code == 204 || code == 304
        var out: [UInt8] = []
        out.reserveCapacity(128 + (bodyless || omitBody ? 0 : body.count))
        out.append(contentsOf: "HTTP/1.1 \(code) \(HTTPResponse.reasonPhrase(code))\r\n".utf8)
        for (name, value) in headers + extraHeaders {
            guard !name.isEmpty, name.utf8.allSatisfy(HTTPSyntax.isTokenByte),
                !HTTPResponse.framingFields.contains(where: { HTTPHeaders.namesMatch($0, name) })
            else { continue }
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8.lazy.map { HTTPSyntax.isFieldValueByte($0) ? $0 : HTTPSyntax.space })
            out.append(contentsOf: "\r\n".utf8)
        }
        if !bodyless {
            out.append(contentsOf: "Content-Length: \(body.count)\r\n".utf8)
        }
        out.append(contentsOf: (keepAlive ? "Connection: keep-alive\r\n" : "Connection: close\r\n").utf8)
        out.append(contentsOf: "\r\n".utf8)
        if !bodyless && !omitBody {
            out.append(contentsOf: body)
        }
        return out
    }

    /// The fields the encoder writes itself and so ignores in `headers`.
    static let framingFields = ["Content-Length", "Connection", "Transfer-Encoding"]

    /// The standard reason phrase of `status` (RFC 9110 §15), or an empty string for a code it does not name; a
    /// status line may have an empty phrase.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 100: "Continue"
        case 101: "Switching Protocols"
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 203: "Non-Authoritative Information"
        case 204: "No Content"
        case 205: "Reset Content"
        case 206: "Partial Content"
        case 301: "Moved Permanently"
        case 302: "Found"
        case 303: "See Other"
        case 304: "Not Modified"
        case 307: "Temporary Redirect"
        case 308: "Permanent Redirect"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 406: "Not Acceptable"
        case 408: "Request Timeout"
        case 409: "Conflict"
        case 410: "Gone"
        case 411: "Length Required"
        case 412: "Precondition Failed"
        case 413: "Content Too Large"
        case 414: "URI Too Long"
        case 415: "Unsupported Media Type"
        case 416: "Range Not Satisfiable"
        case 417: "Expectation Failed"
        case 421: "Misdirected Request"
        case 422: "Unprocessable Content"
        case 426: "Upgrade Required"
        case 428: "Precondition Required"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        case 505: "HTTP Version Not Supported"
        default: ""
        }
    }
}
