extension HTTPRequestParser {
    /// Checks the request line (without its CRLF) and says where its method and target are; the target is `*`
    /// (with `OPTIONS`) or starts with `/`, and holds only bytes `HTTPSyntax.isTargetByte` allows. Its escapes are
    /// not checked here (`HTTPRequestTarget` does that as it decodes them).
    ///
    /// The version is checked before the rest, so that the HTTP/2 preface (`PRI * HTTP/2.0`) is answered 505
    /// rather than 400 for its target.
    func checkRequestLine(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>) throws(HTTPParseError)
        -> (method: Range<Int>, target: Range<Int>, version: HTTPVersion)
    {
        guard !line.isEmpty else {
            throw .badRequest("the request line is empty (at most two blank lines may precede it)")
        }
        let notThreeParts = HTTPParseError.badRequest(
            "the request line is not METHOD, target and version separated by single spaces")
        let space = HTTPSyntax.space
        guard let firstSpace = HTTPSyntax.firstIndex(of: space, in: bytes, line),
            let secondSpace = HTTPSyntax.firstIndex(of: space, in: bytes, (firstSpace + 1)..<line.upperBound),
            HTTPSyntax.firstIndex(of: space, in: bytes, (secondSpace + 1)..<line.upperBound) == nil
        else { throw notThreeParts }
        let version = try parseVersion(bytes, (secondSpace + 1)..<line.upperBound)

        let method = line.lowerBound..<firstSpace
        guard !method.isEmpty, HTTPSyntax.allSatisfy(bytes, method, HTTPSyntax.isTokenByte) else {
            throw .badRequest("the method is not a token")
        }
        let target = (firstSpace + 1)..<secondSpace
        guard !target.isEmpty else { throw notThreeParts }
        guard HTTPSyntax.allSatisfy(bytes, target, HTTPSyntax.isTargetByte) else {
            throw .badRequest("the request-target has a byte that must be percent-encoded")
        }
        if HTTPSyntax.equals(bytes, target, "*") {
            guard HTTPSyntax.equals(bytes, method, "OPTIONS") else {
                throw .badRequest("the request-target * is only allowed with OPTIONS")
            }
        } else {
            guard bytes[target.lowerBound] == UInt8(ascii: "/") else {
                throw .badRequest("the request-target is not a path starting with / (absolute-form is not accepted)")
            }
        }
        return (method, target, version)
    }

    /// `HTTP/1.0` or `HTTP/1.1`; 505 for any other `HTTP/` followed by a digit, `.` digit or just a digit (as in
    /// `HTTP/2`), and 400 for anything else, lower-case `http/1.1` included (the name is case-sensitive).
    func parseVersion(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) -> HTTPVersion {
        if HTTPSyntax.equals(bytes, range, "HTTP/1.1") { return .http1_1 }
        if HTTPSyntax.equals(bytes, range, "HTTP/1.0") { return .http1_0 }
        let start = range.lowerBound
        let isDigit = { (offset: Int) in
            bytes[start + offset] >= UInt8(ascii: "0") && bytes[start + offset] <= UInt8(ascii: "9")
        }
        let hasPrefix = range.count >= 5 && HTTPSyntax.equals(bytes, start..<(start + 5), "HTTP/")
        let wellFormed =
            hasPrefix
            && ((range.count == 6 && isDigit(5))
                || (range.count == 8 && isDigit(5) && bytes[start + 6] == UInt8(ascii: ".") && isDigit(7)))
        guard wellFormed else {
            throw .badRequest("the request line does not end with an HTTP version such as HTTP/1.1")
        }
        throw HTTPParseError(status: 505, reason: "only HTTP/1.0 and HTTP/1.1 are supported")
    }
}
