/// The decoded parts of an origin-form request-target (`/path?query`).
///
/// The path is split at `/` before it is decoded, so an encoded `%2F` stays inside its segment: a backend address
/// or name can then carry any character without being mistaken for a separator.
struct HTTPRequestTarget: Equatable {
    /// The whole path, decoded.
    var path: String
    /// The path's non-empty segments, each decoded on its own.
    var pathSegments: [String]
    /// The query's pairs, decoded, `+` read as a space.
    var query: [HTTPQueryItem]

    /// Parts already decoded, as for `OPTIONS *`.
    init(path: String, pathSegments: [String], query: [HTTPQueryItem]) {
        self.path = path
        self.pathSegments = pathSegments
        self.query = query
    }

    /// Decodes the target at `range` of `bytes`, which starts with `/` and holds only bytes
    /// `HTTPSyntax.isTargetByte` allows.
    ///
    /// Throws 400 for a malformed escape (`%G1`, a `%` without two hex digits), for an escape that decodes to
    /// NUL, and for decoded bytes that are not UTF-8.
    init(originForm bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(HTTPParseError) {
        let questionMark = HTTPSyntax.firstIndex(of: UInt8(ascii: "?"), in: bytes, range) ?? range.upperBound
        let rawPath = range.lowerBound..<questionMark
        path = try HTTPRequestTarget.decode(bytes, rawPath, plusIsSpace: false, part: "path")
        pathSegments = []
        var segmentStart = rawPath.lowerBound
        while segmentStart < rawPath.upperBound {
            let slash = HTTPSyntax.firstIndex(of: UInt8(ascii: "/"), in: bytes, segmentStart..<rawPath.upperBound)
            let segmentEnd = slash ?? rawPath.upperBound
            if segmentEnd > segmentStart {
                pathSegments.append(
                    try HTTPRequestTarget.decode(bytes, segmentStart..<segmentEnd, plusIsSpace: false, part: "path"))
            }
            segmentStart = segmentEnd + 1
        }
        query = []
        var pairStart = questionMark + 1
        while pairStart < range.upperBound {
            let ampersand = HTTPSyntax.firstIndex(of: UInt8(ascii: "&"), in: bytes, pairStart..<range.upperBound)
            let pairEnd = ampersand ?? range.upperBound
            if pairEnd > pairStart {
                let equals = HTTPSyntax.firstIndex(of: UInt8(ascii: "="), in: bytes, pairStart..<pairEnd) ?? pairEnd
                let name = try HTTPRequestTarget.decode(bytes, pairStart..<equals, plusIsSpace: true, part: "query")
                let value =
                    equals < pairEnd
                    ? try HTTPRequestTarget.decode(bytes, (equals + 1)..<pairEnd, plusIsSpace: true, part: "query")
                    : ""
                query.append(HTTPQueryItem(name: name, value: value))
            }
            pairStart = pairEnd + 1
        }
    }

    /// The bytes at `range` with every `%XX` replaced by its byte (and `+` by a space when `plusIsSpace`), as
    /// UTF-8 text.
    static func decode(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, plusIsSpace: Bool, part: String)
        throws(HTTPParseError) -> String
    {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard range.upperBound - index >= 3, let high = HTTPSyntax.hexValue(bytes[index + 1]),
                    let low = HTTPSyntax.hexValue(bytes[index + 2])
                else { throw .badRequest("the \(part) has a % not followed by two hex digits") }
                let value = high << 4 | low
                guard value != 0 else { throw .badRequest("the \(part) has an encoded NUL (%00)") }
                decoded.append(value)
                index += 3
            } else {
                decoded.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        guard let text = String(validating: decoded, as: UTF8.self) else {
            throw .badRequest("the \(part) is not UTF-8 once decoded")
        }
        return text
    }
}
