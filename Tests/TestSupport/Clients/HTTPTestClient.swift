import RelayIO
import Testing

/// Sends raw bytes to an HTTP server on a fresh connection and reads the response until the server closes
/// (bounded by time and size).
public func rawHTTP(_ address: SocketAddress, _ request: [UInt8], timeout: Duration = .seconds(20)) async throws
    -> TestHTTPResponse
{
    try await withTimeout(timeout, "HTTP response from \(address)") {
        let client = try await TestClient.connect(address)
        defer { client.close() }
        try await client.send(request)
        return try TestHTTPResponse(parsing: try await client.readToEnd(limit: 16 << 20))
    }
}

/// One GET with `Connection: close`.
public func http(_ address: SocketAddress, _ path: String, token: String? = nil) async throws -> TestHTTPResponse {
    try await http(address, "GET", path, token: token)
}

/// One request with `Connection: close`.
public func http(_ address: SocketAddress, _ method: String, _ path: String, token: String? = nil,
                 body: String = "", headers: [String] = []) async throws -> TestHTTPResponse {
    var head = "\(method) \(path) HTTP/1.1\r\nHost: relayd\r\nConnection: close\r\n"
    if let token { head += "Authorization: Bearer \(token)\r\n" }
    for header in headers { head += header + "\r\n" }
    if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.utf8.count)\r\n" }
    return try await rawHTTP(address, Array((head + "\r\n" + body).utf8))
}
