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

    /// Decodes `raw`, which starts with `/` and holds only bytes `HTTPSyntax.isTargetByte` allows.
    ///
    /// Throws 400 for a malformed escape (`%G1`, a `%` without two hex digits), for an escape that decodes to
    /// NUL, and for decoded bytes that are not UTF-8.
    init(originForm raw: [UInt8]) throws(HTTPParseError) {
        let questionMark = raw.firstIndex(of: UInt8(ascii: "?")) ?? raw.endIndex
        let rawPath = raw[..<questionMark]
        path = try HTTPRequestTarget.decode(rawPath, plusIsSpace: false, part: "path")
        pathSegments = []
        for segment in rawPath.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            pathSegments.append(try HTTPRequestTarget.decode(segment, plusIsSpace: false, part: "path"))
        }
        query = []
        guard questionMark < raw.endIndex else { return }
        let rawQuery = raw[(questionMark + 1)...]
        for pair in rawQuery.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = try HTTPRequestTarget.decode(pair[..<equals], plusIsSpace: true, part: "query")
            let value =
                equals < pair.endIndex
                ? try HTTPRequestTarget.decode(pair[(equals + 1)...], plusIsSpace: true, part: "query") : ""
            query.append(HTTPQueryItem(name: name, value: value))
        }
    }

    /// `raw` with every `%XX` replaced by its byte (and `+` by a space when `plusIsSpace`), as UTF-8 text.
    static func decode(_ raw: ArraySlice<UInt8>, plusIsSpace: Bool, part: String) throws(HTTPParseError) -> String {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            if byte == UInt8(ascii: "%") {
                guard raw.endIndex - index >= 3, let high = HTTPSyntax.hexValue(raw[index + 1]),
                    let low = HTTPSyntax.hexValue(raw[index + 2])
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
