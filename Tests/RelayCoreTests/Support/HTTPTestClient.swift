import Foundation
import RelayIO
import Testing

/// A response as a test reads it.
struct TestHTTPResponse {
    let status: Int
    /// Header names lowercased.
    let headers: [String: String]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object.
    func json() throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }
}

/// Sends raw bytes to an HTTP server on a fresh connection and reads the response until the server closes
/// (bounded by time and size).
func rawHTTP(_ address: SocketAddress, _ request: [UInt8], timeout: Duration = .seconds(5)) async throws
    -> TestHTTPResponse
{
    try await withTimeout(timeout) {
        let client = try await TestClient.connect(address)
        defer { client.close() }
        try await client.send(request)
        let bytes = try await client.readToEnd(limit: 16 << 20)
        return try parseHTTPResponse(bytes)
    }
}

/// One GET with `Connection: close`.
func http(_ address: SocketAddress, _ path: String, token: String? = nil) async throws -> TestHTTPResponse {
    try await http(address, "GET", path, token: token)
}

/// One request with `Connection: close`.
func http(_ address: SocketAddress, _ method: String, _ path: String, token: String? = nil,
          body: String = "", headers: [String] = []) async throws -> TestHTTPResponse {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: relayd\r\nConnection: close\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    for header in headers { head += header + "\r\n" }
    if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.utf8.count)\r\n" }
    return try await rawHTTP(address, Array((head + "\r\n" + body).utf8))
}

struct MalformedResponse: Error, CustomStringConvertible {
    let bytes: [UInt8]
    var description: String { "malformed HTTP response: \(String(decoding: bytes.prefix(300), as: UTF8.self))" }
}

func parseHTTPResponse(_ bytes: [UInt8]) throws -> TestHTTPResponse {
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
    return TestHTTPResponse(status: status, headers: headers, body: body)
}
