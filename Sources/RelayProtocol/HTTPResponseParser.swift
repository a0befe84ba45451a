/// Parses one HTTP/1.1 response (RFC 9112) from the bytes a client has received so far, within `HTTPLimits`.
///
/// Call `parse` again with more bytes until it returns a response; it re-reads from the start each time, which
/// costs little for the small replies a control-plane client reads and keeps no state to get wrong. The body is
/// delimited as RFC 9112 §6.3 says: none for 1xx, 204 and 304; `Transfer-Encoding: chunked`; `Content-Length`;
/// otherwise until the server closes (`atEnd`). Every malformed or oversized reply is an `HTTPParseError` whose
/// reason says what was wrong; its status is the one a server would have used for the same fault in a request.
public struct HTTPResponseParser: Sendable {
    /// The bounds: head size and field count, body size, chunked framing.
    public let limits: HTTPLimits
    /// The request parser's field-line and chunked-body readers, which responses share.
    let fields: HTTPRequestParser

    public init(limits: HTTPLimits = HTTPLimits()) {
        self.limits = limits.clamped
        self.fields = HTTPRequestParser(limits: limits)
    }

    /// The response at the start of `bytes` and the number of bytes it took, or nil when more bytes are needed.
    /// `atEnd` says the server has closed the connection, which ends a body delimited by closing (and makes a
    /// response cut short an error).
    public func parse(_ bytes: [UInt8], atEnd: Bool = false) throws(HTTPParseError) -> (HTTPClientResponse, Int)? {
        let outcome: Result<(HTTPClientResponse, Int)?, HTTPParseError> = bytes.withUnsafeBytes { raw in
            do throws(HTTPParseError) { return .success(try parse(raw, atEnd: atEnd)) } catch { return .failure(error) }
        }
        let result = try outcome.get()
        if result == nil, atEnd {
            throw .badRequest(bytes.isEmpty ? "the server closed the connection without answering"
                                            : "the server closed the connection in the middle of its response")
        }
        return result
    }

    /// One checked field line of a response head: the line (without CRLF), its name and its trimmed value.
    typealias FieldRanges = HTTPRequestParser.FieldRanges

    /// The status line and where each field line is, at the start of `bytes`; nil until the blank line ending
    /// the head arrives. Every line is checked as `parse` checks it; nothing is copied.
    func scanHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError)
        -> (version11: Bool, status: Int, reason: String, fields: [FieldRanges], end: Int)?
    {
        let headLimit = limits.maxHeaderBytes
        // Built only when thrown: an error made up front costs every response an allocation for its text.
        var headTooLarge: HTTPParseError {
            HTTPParseError(status: 431, reason: "the response head is larger than \(headLimit) bytes")
        }
        let statusEnd: Int
        switch try HTTPLineEnd.find(in: bytes, from: 0, maxLength: min(headLimit, 8 * 1024)) {
        case .found(let end): statusEnd = end
        case .incomplete: return nil
        case .tooLong: throw headTooLarge
        }
        let (version11, status, reason) = try parseStatusLine(bytes, 0..<statusEnd)
        var position = statusEnd + 2
        var ranges: [FieldRanges] = []
        ranges.reserveCapacity(16)
        while true {
            let room = headLimit - position - 2
            switch try HTTPLineEnd.find(in: bytes, from: position, maxLength: room) {
            case .incomplete:
                if bytes.count >= headLimit { throw headTooLarge }
                return nil
            case .tooLong:
                throw headTooLarge
            case .found(let end) where end == position:
                return (version11, status, reason, ranges, end + 2)
            case .found(let end):
                guard ranges.count < limits.maxHeaderCount else {
                    throw HTTPParseError(status: 431, reason: "more than \(limits.maxHeaderCount) header fields")
                }
                let (name, value) = try fields.checkFieldLine(bytes, position..<end, number: ranges.count + 1,
                                                              kind: "response header")
                ranges.append((position..<end, name, value))
                position = end + 2
            }
        }
    }

    /// The status line and header fields at the start of `bytes`, nil until the blank line ending them arrives.
    func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError)
        -> (version11: Bool, status: Int, reason: String, headers: HTTPHeaders, end: Int)?
    {
        guard let head = try scanHead(bytes) else { return nil }
        let headers = HTTPHeaders(head.fields.map { field in
            HTTPHeader(name: HTTPSyntax.string(bytes, field.name), value: HTTPSyntax.string(bytes, field.value))
        })
        return (head.version11, head.status, head.reason, headers, head.end)
    }

    private func parse(_ bytes: UnsafeRawBufferPointer, atEnd: Bool) throws(HTTPParseError)
        -> (HTTPClientResponse, Int)?
    {
        guard let (version11, status, _, headers, position) = try parseHead(bytes) else { return nil }

        var keepAlive = version11 ? !headers.containsToken("close", in: "Connection")
                                  : headers.containsToken("keep-alive", in: "Connection")

        if (100..<200).contains(status) || status == 204 || status == 304 {
            return (HTTPClientResponse(status: status, headers: headers, body: [], keepAlive: keepAlive), position)
        }
        let transferEncodings = headers.values(for: "Transfer-Encoding")
        if !transferEncodings.isEmpty {
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }
                .map { HTTPSyntax.trimmingWhitespace($0).lowercased() }.filter { !$0.isEmpty }
            guard codings == ["chunked"] else {
                throw HTTPParseError(status: 501, reason: "a transfer coding other than chunked alone")
            }
            guard let (body, end) = try fields.parseChunkedBody(bytes, from: position) else { return nil }
            return (HTTPClientResponse(status: status, headers: headers, body: body, keepAlive: keepAlive), end)
        }
        if let first = headers.values(for: "Content-Length").first {
            let digits = try fields.significantDigits(ofContentLength: first)
            for other in headers.values(for: "Content-Length").dropFirst() {
                guard try fields.significantDigits(ofContentLength: other) == digits else {
                    throw .badRequest("Content-Length fields disagree")
                }
            }
            var length = 0
            for digit in digits {
                length = length * 10 + Int(digit - UInt8(ascii: "0"))
                guard length <= limits.maxBodyBytes else {
                    throw HTTPParseError(status: 413, reason: "the body is larger than \(limits.maxBodyBytes) bytes")
                }
            }
            guard bytes.count - position >= length else { return nil }
            let body = HTTPSyntax.copy(bytes, position..<(position + length))
            return (HTTPClientResponse(status: status, headers: headers, body: body, keepAlive: keepAlive),
                    position + length)
        }
        // Delimited by the server closing the connection.
        guard bytes.count - position <= limits.maxBodyBytes else {
            throw HTTPParseError(status: 413, reason: "the body is larger than \(limits.maxBodyBytes) bytes")
        }
        guard atEnd else { return nil }
        keepAlive = false
        let body = HTTPSyntax.copy(bytes, position..<bytes.count)
        return (HTTPClientResponse(status: status, headers: headers, body: body, keepAlive: keepAlive), bytes.count)
    }

    /// `HTTP/1.x NNN reason`: whether the version is 1.1, and the status.
    func parseStatusLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError)
        -> (Bool, Int, String)
    {
        let start = line.lowerBound
        let version11: Bool
        if line.count >= 9, HTTPSyntax.equals(bytes, start..<(start + 9), "HTTP/1.1 ") {
            version11 = true
        } else if line.count >= 9, HTTPSyntax.equals(bytes, start..<(start + 9), "HTTP/1.0 ") {
            version11 = false
        } else {
            throw HTTPParseError(status: 505, reason: "the status line does not start with HTTP/1.1 or HTTP/1.0")
        }
        let rest = start + 9
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        guard line.upperBound - rest >= 3, isDigit(bytes[rest]), isDigit(bytes[rest + 1]), isDigit(bytes[rest + 2]),
              line.upperBound - rest == 3 || bytes[rest + 3] == UInt8(ascii: " ")
        else {
            throw .badRequest("the status line has no three-digit status code")
        }
        let status = (0..<3).reduce(0) { $0 * 10 + Int(bytes[rest + $1] - UInt8(ascii: "0")) }
        guard (100...599).contains(status) else { throw .badRequest("status \(status) is out of range") }
        guard HTTPSyntax.allSatisfy(bytes, (rest + 3)..<line.upperBound, HTTPSyntax.isFieldValueByte) else {
            throw .badRequest("the reason phrase has a control character")
        }
        let reason = line.upperBound - rest > 4 ? HTTPSyntax.string(bytes, (rest + 4)..<line.upperBound) : ""
        return (version11, status, reason)
    }
}
