extension HTTPRequestParser {
    /// Parses one `name: value` field line (without its CRLF); `kind` and `number` name it in errors
    /// ("header line 3").
    func parseFieldLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, number: Int, kind: String)
        throws(HTTPParseError) -> HTTPHeader
    {
        let (name, value) = try checkFieldLine(bytes, line, number: number, kind: kind)
        return HTTPHeader(name: HTTPSyntax.string(bytes, name), value: HTTPSyntax.string(bytes, value))
    }

    /// Checks one `name: value` field line (without its CRLF) and returns where its name and its value are.
    ///
    /// The name must be a token directly followed by the colon; the value loses its surrounding spaces and tabs
    /// and may hold no control character other than a tab. A line starting with whitespace is obsolete line
    /// folding, which RFC 9112 §5.2 lets a server refuse, and this one does.
    func checkFieldLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, number: Int, kind: String)
        throws(HTTPParseError) -> (name: Range<Int>, value: Range<Int>)
    {
        guard !line.isEmpty, !HTTPSyntax.isWhitespace(bytes[line.lowerBound]) else {
            throw .badRequest("\(kind) line \(number) starts with whitespace (obsolete line folding is not accepted)")
        }
        guard let colon = HTTPSyntax.firstIndex(of: HTTPSyntax.colon, in: bytes, line) else {
            throw .badRequest("\(kind) line \(number) has no colon")
        }
        let name = line.lowerBound..<colon
        guard !name.isEmpty else { throw .badRequest("\(kind) line \(number) has an empty field name") }
        guard !HTTPSyntax.isWhitespace(bytes[colon - 1]) else {
            throw .badRequest("\(kind) line \(number) has whitespace before the colon")
        }
        guard HTTPSyntax.allSatisfy(bytes, name, HTTPSyntax.isTokenByte) else {
            throw .badRequest("\(kind) line \(number) has a field name that is not a token")
        }
        var valueStart = colon + 1
        var valueEnd = line.upperBound
        while valueStart < valueEnd, HTTPSyntax.isWhitespace(bytes[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, HTTPSyntax.isWhitespace(bytes[valueEnd - 1]) { valueEnd -= 1 }
        guard HTTPSyntax.allSatisfy(bytes, valueStart..<valueEnd, HTTPSyntax.isFieldValueByte) else {
            throw .badRequest("\(kind) line \(number) has a control character in its value")
        }
        return (name, valueStart..<valueEnd)
    }

    /// Refuses a request with two `Host` fields, an HTTP/1.1 request with none, and a `Host` that is not a host
    /// (RFC 9112 §3.2 makes all three a 400).
    func checkHost(_ head: HTTPRequestHead) throws(HTTPParseError) {
        let hosts = head.headers.values(for: "Host")
        try checkHost(count: hosts.count, first: hosts.first, version: head.version)
    }

    /// `checkHost` given how many `Host` fields there are and the first one's value.
    func checkHost(count: Int, first host: String?, version: HTTPVersion) throws(HTTPParseError) {
        guard count <= 1 else { throw .badRequest("more than one Host field") }
        guard let host else {
            guard version == .http1_0 else { throw .badRequest("an HTTP/1.1 request needs a Host field") }
            return
        }
        guard host.utf8.allSatisfy(HTTPSyntax.isHostByte) else {
            throw .badRequest("the Host field is not a host name or address")
        }
    }

    /// Decides how the body is delimited (RFC 9112 §6), refusing every ambiguous combination.
    ///
    /// `Transfer-Encoding` with `Content-Length` is 400 (the classic smuggling vector), as is `Transfer-Encoding`
    /// in an HTTP/1.0 request. `Content-Length` must be digits only; repeated fields must agree; a length over
    /// `maxBodyBytes` is 413 before any of the body is read, however many digits it has.
    func framing(of head: HTTPRequestHead) throws(HTTPParseError) -> HTTPBodyFraming {
        try framing(transferEncodings: head.headers.values(for: "Transfer-Encoding"),
                    contentLengths: head.headers.values(for: "Content-Length"), version: head.version)
    }

    /// `framing(of:)` given the values of the head's `Transfer-Encoding` and `Content-Length` fields.
    func framing(transferEncodings: [String], contentLengths: [String], version: HTTPVersion)
        throws(HTTPParseError) -> HTTPBodyFraming
    {
        if !transferEncodings.isEmpty {
            guard contentLengths.isEmpty else {
                throw .badRequest("both Transfer-Encoding and Content-Length are present")
            }
            guard version == .http1_1 else { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }
                .map { HTTPSyntax.trimmingWhitespace($0).lowercased() }
                .filter { !$0.isEmpty }
            guard codings.last == "chunked" else {
                throw .badRequest("the last transfer coding is not chunked, so the body length is unknown")
            }
            guard codings.count == 1 else {
                if codings.dropLast().contains("chunked") {
                    throw .badRequest("the chunked transfer coding is applied more than once")
                }
                throw HTTPParseError(status: 501, reason: "transfer codings other than chunked are not supported")
            }
            return .chunked
        }
        guard let first = contentLengths.first else { return .none }
        let digits = try significantDigits(ofContentLength: first)
        for other in contentLengths.dropFirst() {
            guard try significantDigits(ofContentLength: other) == digits else {
                throw .badRequest("Content-Length fields disagree")
            }
        }
        // Stops at the first digit that takes the value over the limit, so twenty nines cannot overflow.
        var length = 0
        for digit in digits {
            length = length * 10 + Int(digit - UInt8(ascii: "0"))
            guard length <= limits.maxBodyBytes else {
                throw HTTPParseError(status: 413, reason: "the body is larger than \(limits.maxBodyBytes) bytes")
            }
        }
        return .length(length)
    }

    /// `significantDigits(ofContentLength:)` of the value at `range` of `bytes`: where its digits start, leading
    /// zeros skipped, without copying them.
    func significantDigits(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) -> Range<Int> {
        guard !range.isEmpty else { throw .badRequest("Content-Length is empty") }
        guard HTTPSyntax.allSatisfy(bytes, range, { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .badRequest("Content-Length is not a decimal number")
        }
        var start = range.lowerBound
        while start < range.upperBound, bytes[start] == UInt8(ascii: "0") { start += 1 }
        return start..<range.upperBound
    }

    /// The digits of a `Content-Length` value without leading zeros, so that equal lengths compare equal
    /// however they are written and without converting a possibly huge number.
    func significantDigits(ofContentLength text: String) throws(HTTPParseError) -> ArraySlice<UInt8> {
        let digits = Array(text.utf8)
        guard !digits.isEmpty else { throw .badRequest("Content-Length is empty") }
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .badRequest("Content-Length is not a decimal number")
        }
        return digits.drop { $0 == UInt8(ascii: "0") }
    }
}
