/// One field line of a head a proxy forwards: the line (without CRLF), where its name ends, its trimmed value, and
/// what the proxy does with it.
public struct HTTPFieldLine: Sendable, Equatable {
    /// What the proxy does with a field line.
    public enum Role: UInt8, Sendable {
        /// Forwarded as it is.
        case plain
        /// Describes only the connection it came on (RFC 9110 §7.6.1: `Connection`, `Keep-Alive`,
        /// `Proxy-Connection`, `TE`, `Trailer`, `Upgrade`, and the names `Connection` lists): not forwarded.
        case hopByHop
        /// `X-Forwarded-For`, `Forwarded`, `X-Forwarded-Proto` of a request: the proxy writes its own, extending
        /// the first two.
        case forwardedFor, forwarded, forwardedProto
        /// A request's `Host`: forwarded, and named in the proxy's `Forwarded` element.
        case host
    }

    public let start: Int
    public let end: Int
    public let colon: Int
    public let valueStart: Int
    public let valueEnd: Int
    public internal(set) var role: Role

    init(_ range: HTTPRequestParser.FieldRanges, role: Role) {
        start = range.line.lowerBound
        end = range.line.upperBound
        colon = range.name.upperBound
        valueStart = range.value.lowerBound
        valueEnd = range.value.upperBound
        self.role = role
    }

    /// The fields of `head` at `lines`, as strings.
    static func headers(_ lines: [HTTPFieldLine], in head: [UInt8]) -> HTTPHeaders {
        HTTPHeaders(lines.map { line in
            HTTPHeader(name: String(decoding: head[line.start..<line.colon], as: UTF8.self),
                       value: String(decoding: head[line.valueStart..<line.valueEnd], as: UTF8.self))
        })
    }
}

/// What a head's `Connection` fields say, read token by token without building strings, and the marking of the
/// hop-by-hop lines that follows from them; shared by requests and responses.
struct HTTPConnectionTokens {
    var close = false
    var keepAlive = false
    var upgrade = false
    /// The other names listed, lower case: those fields are hop-by-hop too.
    var listed: [[UInt8]] = []

    /// Reads one `Connection` field's value.
    mutating func read(_ bytes: UnsafeRawBufferPointer, _ value: Range<Int>) {
        HTTPSyntax.forEachListElement(bytes, value) { word in
            if HTTPSyntax.equalsLower(word, "close") { close = true }
            else if HTTPSyntax.equalsLower(word, "keep-alive") { keepAlive = true }
            else if HTTPSyntax.equalsLower(word, "upgrade") { upgrade = true }
            else { listed.append(word.map(HTTPSyntax.lowercased)) }
        }
    }

    /// Whether `name` is always hop-by-hop (besides `Connection` and `Upgrade`, which the parsers read as well).
    static func isHopByHopName(_ name: UnsafeRawBufferPointer) -> Bool {
        switch name.count {
        case 10: HTTPSyntax.equalsLower(name, "keep-alive")
        case 16: HTTPSyntax.equalsLower(name, "proxy-connection")
        case 2: HTTPSyntax.equalsLower(name, "te")
        case 7: HTTPSyntax.equalsLower(name, "trailer")
        default: false
        }
    }

    /// Marks hop-by-hop the lines whose names `Connection` listed.
    func mark(_ lines: inout [HTTPFieldLine], _ ranges: [HTTPRequestParser.FieldRanges], in bytes: UnsafeRawBufferPointer) {
        guard !listed.isEmpty else { return }
        for index in lines.indices where lines[index].role != .hopByHop {
            if listed.contains(bytes[ranges[index].name].map(HTTPSyntax.lowercased)) { lines[index].role = .hopByHop }
        }
    }
}

/// A request head as a proxy sees it: what routing, balancing and forwarding need, where the body starts, and its
/// field lines as received, each marked with what the proxy does with it, so the head is forwarded by copying
/// lines instead of rebuilding fields.
public struct HTTPProxyRequest: Sendable, Equatable {
    /// One field line of `head` (see `HTTPFieldLine`).
    public typealias Line = HTTPFieldLine
    /// What the proxy does with a field line.
    public typealias Role = HTTPFieldLine.Role

    /// The method, as sent.
    public var method: String
    /// The request-target, as sent (origin-form, or `*`).
    public var target: String
    /// The version from the request line.
    public var version: HTTPVersion
    /// How the body is delimited.
    public var body: HTTPMessageBody
    /// Whether the client keeps the connection open after the response (HTTP/1.1 unless `Connection: close`;
    /// HTTP/1.0 only with `Connection: keep-alive`).
    public var keepAlive: Bool
    /// The bytes of the head, its blank line included: the body starts there.
    public var headLength: Int
    /// The head as received (any empty lines before the request line included).
    public let head: [UInt8]
    /// Its field lines, in order.
    public let lines: [Line]
    /// `Expect: 100-continue`: the client waits for an interim response before it sends the body.
    public let expectsContinue: Bool
    /// An upgrade request (`Connection: upgrade` with an `Upgrade` field, WebSocket's handshake among them).
    public let isUpgrade: Bool
    /// The `Upgrade` field's value, when there is one.
    public let upgrade: String?
    /// The `Host` field, lower-cased and without its port, or nil.
    public let host: String?
    /// Whether the client sent an `X-Request-Id`.
    public let hasRequestID: Bool

    /// The target's path, before any `?`, as sent (not decoded): what routes match.
    public var path: Substring {
        guard let question = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return Substring(target) }
        return target[..<question]
    }

    /// Methods whose request can be sent again without changing the outcome (RFC 9110 §9.2.2).
    public var isIdempotent: Bool {
        switch method {
        case "GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE": true
        default: false
        }
    }

    /// The header fields, as strings (built on demand: forwarding copies `lines`).
    public var headers: HTTPHeaders { HTTPFieldLine.headers(lines, in: head) }

    /// The value of the first field named `name` (any case), without building the others.
    public func value(of name: String) -> String? {
        head.withUnsafeBytes { bytes in
            for line in lines where HTTPSyntax.equalsIgnoringCase(bytes, line.start..<line.colon, name) {
                return HTTPSyntax.string(bytes, line.valueStart..<line.valueEnd)
            }
            return nil
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

    /// `hostName` of the ASCII value at `range` of `bytes`, read without building the value first.
    static func hostName(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        var end = range.upperBound
        if range.lowerBound < end, bytes[range.lowerBound] == UInt8(ascii: "[") {
            if let close = HTTPSyntax.firstIndex(of: UInt8(ascii: "]"), in: bytes, range) { end = close + 1 }
        } else {
            var index = end
            while index > range.lowerBound {
                index -= 1
                if bytes[index] == UInt8(ascii: ":") {
                    end = index
                    break
                }
            }
        }
        let count = end - range.lowerBound
        return String(unsafeUninitializedCapacity: count) { buffer in
            for offset in 0..<count { buffer[offset] = HTTPSyntax.lowercased(bytes[range.lowerBound + offset]) }
            return count
        }
    }
}

/// A response head as a proxy sees it: its status and framing, and its field lines as received, each marked when
/// it is hop-by-hop, so the head can be forwarded by copying lines instead of rebuilding fields.
public struct HTTPProxyResponse: Sendable, Equatable {
    /// One field line of `head` (see `HTTPFieldLine`): `.hopByHop` or `.plain`.
    public typealias Line = HTTPFieldLine

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
    public var headers: HTTPHeaders { HTTPFieldLine.headers(lines, in: head) }
}

extension HTTPRequestParser {
    /// The head of the request at the start of `bytes`, for a proxy that streams the body: nil when the head has
    /// not ended yet. Strict as `parse`, with the same limits on the head; a `Content-Length` is refused with
    /// 413 only above `maxBodyBytes`, and a chunked body is not read here at all (`HTTPChunkedScanner` follows it).
    /// No field becomes a string but the few that route and frame the request.
    public func parseProxyHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPProxyRequest? {
        guard let (method, target, version, ranges, end) = try scanHead(bytes) else { return nil }
        var lines: [HTTPProxyRequest.Line] = []
        lines.reserveCapacity(ranges.count)
        var hostCount = 0
        var hostValue: Range<Int>?
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var connection = HTTPConnectionTokens()
        var upgradeValue: Range<Int>?
        var expects = false
        var requestID = false
        for range in ranges {
            let name = UnsafeRawBufferPointer(rebasing: bytes[range.name])
            var role = HTTPProxyRequest.Role.plain
            switch name.count {
            case 4 where HTTPSyntax.equalsLower(name, "host"):
                hostCount += 1
                if hostValue == nil { hostValue = range.value }
                role = .host
            case 14 where HTTPSyntax.equalsLower(name, "content-length"):
                contentLengths.append(HTTPSyntax.string(bytes, range.value))
            case 17 where HTTPSyntax.equalsLower(name, "transfer-encoding"):
                transferEncodings.append(HTTPSyntax.string(bytes, range.value))
            case 10 where HTTPSyntax.equalsLower(name, "connection"):
                role = .hopByHop
                connection.read(bytes, range.value)
            case 7 where HTTPSyntax.equalsLower(name, "upgrade"):
                role = .hopByHop
                if upgradeValue == nil { upgradeValue = range.value }
            case 6 where HTTPSyntax.equalsLower(name, "expect"):
                if HTTPSyntax.equalsLower(UnsafeRawBufferPointer(rebasing: bytes[range.value]), "100-continue") {
                    expects = true
                }
            case 12 where HTTPSyntax.equalsLower(name, "x-request-id"):
                requestID = true
            case 15 where HTTPSyntax.equalsLower(name, "x-forwarded-for"):
                role = .forwardedFor
            case 9 where HTTPSyntax.equalsLower(name, "forwarded"):
                role = .forwarded
            case 17 where HTTPSyntax.equalsLower(name, "x-forwarded-proto"):
                role = .forwardedProto
            case _ where HTTPConnectionTokens.isHopByHopName(name):
                role = .hopByHop
            default:
                break
            }
            lines.append(HTTPFieldLine(range, role: role))
        }
        connection.mark(&lines, ranges, in: bytes)
        let host = hostValue.map { HTTPSyntax.string(bytes, $0) }
        try checkHost(count: hostCount, first: host, version: version)
        let body: HTTPMessageBody
        switch try framing(transferEncodings: transferEncodings, contentLengths: contentLengths, version: version) {
        case .none: body = .none
        case let .length(length): body = length == 0 ? .none : .length(length)
        case .chunked: body = .chunked
        }
        return HTTPProxyRequest(method: HTTPSyntax.string(bytes, method), target: HTTPSyntax.string(bytes, target),
                                version: version, body: body,
                                keepAlive: !connection.close && (version == .http1_1 || connection.keepAlive),
                                headLength: end,
                                head: Array(bytes[0..<end]), lines: lines, expectsContinue: expects,
                                isUpgrade: upgradeValue != nil && connection.upgrade,
                                upgrade: upgradeValue.map { HTTPSyntax.string(bytes, $0) },
                                host: hostValue.map { HTTPProxyRequest.hostName(bytes, $0) }, hasRequestID: requestID)
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
        var length: Range<Int>?
        var lengthError: HTTPParseError?
        var transferCodings: [String] = []
        var sawTransferEncoding = false
        var connection = HTTPConnectionTokens()
        var upgrade: String?
        var lines: [HTTPProxyResponse.Line] = []
        lines.reserveCapacity(ranges.count)
        for range in ranges {
            let name = UnsafeRawBufferPointer(rebasing: bytes[range.name])
            var role = HTTPFieldLine.Role.plain
            switch name.count {
            case 14 where HTTPSyntax.equalsLower(name, "content-length"):
                // The first fault in field order, as a list of the values checked one by one would find it.
                guard lengthError == nil else { break }
                do throws(HTTPParseError) {
                    let digits = try fields.significantDigits(bytes, range.value)
                    if let first = length {
                        if !HTTPSyntax.equalBytes(bytes, first, digits) {
                            lengthError = .badRequest("Content-Length fields disagree")
                        }
                    } else {
                        length = digits
                    }
                } catch {
                    lengthError = error
                }
            case 17 where HTTPSyntax.equalsLower(name, "transfer-encoding"):
                sawTransferEncoding = true
                for coding in HTTPSyntax.string(bytes, range.value).split(separator: ",") {
                    let trimmed = HTTPSyntax.trimmingWhitespace(coding).lowercased()
                    if !trimmed.isEmpty { transferCodings.append(trimmed) }
                }
            case 10 where HTTPSyntax.equalsLower(name, "connection"):
                role = .hopByHop
                connection.read(bytes, range.value)
            case 7 where HTTPSyntax.equalsLower(name, "upgrade"):
                role = .hopByHop
                upgrade = HTTPSyntax.string(bytes, range.value)
            case _ where HTTPConnectionTokens.isHopByHopName(name):
                role = .hopByHop
            default:
                break
            }
            lines.append(HTTPFieldLine(range, role: role))
        }
        connection.mark(&lines, ranges, in: bytes)
        var keepAlive = version11 ? !connection.close : connection.keepAlive
        let body: HTTPMessageBody
        if method == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 {
            body = .none
        } else if sawTransferEncoding {
            // RFC 9112 §6.3: chunked last is chunked; any other final coding runs until the close.
            body = transferCodings.last == "chunked" ? .chunked : .untilClose
        } else if let lengthError {
            throw lengthError
        } else if let digits = length {
            guard digits.count <= 13 else { throw HTTPParseError(status: 502, reason: "Content-Length is too large") }
            let value = digits.reduce(0) { $0 * 10 + Int(bytes[$1] - UInt8(ascii: "0")) }
            body = value == 0 ? .none : .length(value)
        } else {
            body = .untilClose
        }
        if body == .untilClose { keepAlive = false }
        return HTTPProxyResponse(status: status, reason: reason, version11: version11, body: body,
                                 keepAlive: keepAlive, headLength: position, head: Array(bytes[0..<position]),
                                 lines: lines, upgrade: upgrade)
    }
}
