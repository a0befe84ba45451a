extension HTTPRequestParser {
    /// Parses `METHOD SP request-target SP HTTP-version` (without its CRLF) into a head with no fields yet.
    ///
    /// The version is checked before the rest, so that the HTTP/2 preface (`PRI * HTTP/2.0`) is answered 505
    /// rather than 400 for its target.
    func parseRequestLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError)
        -> HTTPRequestHead
    {
        guard !line.isEmpty else {
            throw .badRequest("the request line is empty (at most two blank lines may precede it)")
        }
        let space = HTTPSyntax.space
        guard let firstSpace = bytes[line].firstIndex(of: space) else {
            throw .badRequest("the request line is not METHOD, target and version separated by single spaces")
        }
        guard let secondSpace = bytes[(firstSpace + 1)..<line.upperBound].firstIndex(of: space),
            !bytes[(secondSpace + 1)..<line.upperBound].contains(space)
        else {
            throw .badRequest("the request line is not METHOD, target and version separated by single spaces")
        }
        let version = try parseVersion(bytes[(secondSpace + 1)..<line.upperBound])

        let method = bytes[line.lowerBound..<firstSpace]
        guard !method.isEmpty, method.allSatisfy(HTTPSyntax.isTokenByte) else {
            throw .badRequest("the method is not a token")
        }
        let target = bytes[(firstSpace + 1)..<secondSpace]
        guard !target.isEmpty else {
            throw .badRequest("the request line is not METHOD, target and version separated by single spaces")
        }
        guard target.allSatisfy(HTTPSyntax.isTargetByte) else {
            throw .badRequest("the request-target has a byte that must be percent-encoded")
        }

        let decoded: HTTPRequestTarget
        if target.elementsEqual("*".utf8) {
            guard method.elementsEqual("OPTIONS".utf8) else {
                throw .badRequest("the request-target * is only allowed with OPTIONS")
            }
            decoded = HTTPRequestTarget(path: "*", pathSegments: [], query: [])
        } else {
            guard target.first == UInt8(ascii: "/") else {
                throw .badRequest("the request-target is not a path starting with / (absolute-form is not accepted)")
            }
            decoded = try HTTPRequestTarget(originForm: Array(target))
        }
        return HTTPRequestHead(
            method: String(decoding: method, as: UTF8.self),
            target: String(decoding: target, as: UTF8.self),
            decodedTarget: decoded,
            version: version,
            headers: [:],
            end: line.upperBound
        )
    }

    /// `HTTP/1.0` or `HTTP/1.1`; 505 for any other `HTTP/` followed by a digit, `.` digit or just a digit (as in
    /// `HTTP/2`), and 400 for anything else, lower-case `http/1.1` included (the name is case-sensitive).
    func parseVersion(_ text: Slice<UnsafeRawBufferPointer>) throws(HTTPParseError) -> HTTPVersion {
        if text.elementsEqual("HTTP/1.1".utf8) { return .http1_1 }
        if text.elementsEqual("HTTP/1.0".utf8) { return .http1_0 }
        let prefix = "HTTP/".utf8
        guard text.starts(with: prefix) else {
            throw .badRequest("the request line does not end with an HTTP version such as HTTP/1.1")
        }
        let number = Array(text.dropFirst(prefix.count))
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let wellFormed =
            (number.count == 1 && isDigit(number[0]))
            || (number.count == 3 && isDigit(number[0]) && number[1] == UInt8(ascii: ".") && isDigit(number[2]))
        guard wellFormed else {
            throw .badRequest("the request line does not end with an HTTP version such as HTTP/1.1")
        }
        throw HTTPParseError(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are supported")
    }
}
