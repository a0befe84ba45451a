import Foundation
import Testing

/// An HTTP response as a test reads it.
public struct TestHTTPResponse: Sendable {
    public let status: Int
    /// Header names lowercased.
    public let headers: [String: String]
    public let body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object.
    public func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// Parses a whole response (head and body) as read until the server closed.
    public init(parsing bytes: [UInt8]) throws {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.first(where: { index in
            index + 4 <= bytes.count && Array(bytes[index..<index + 4]) == separator
        }) else { throw MalformedResponse(bytes: bytes) }
        let head = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = head[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw MalformedResponse(bytes: bytes) }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(end + 4)...])
        if let length = headers["content-length"].flatMap(Int.init), body.count > length { body = Array(body.prefix(length)) }
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Bytes that are not an HTTP response.
public struct MalformedResponse: Error, CustomStringConvertible {
    public let bytes: [UInt8]
    public var description: String { "malformed HTTP response: \(String(decoding: bytes.prefix(300), as: UTF8.self))" }
}
