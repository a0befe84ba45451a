import Testing
@testable import RelayProtocol

/// The pieces an HTTP gateway streams with: the chunked scanner, the body tracker and the proxy heads.
@Suite struct HTTPGatewayParsingTests {
    static let chunked = Array("5;ext=1\r\nhello\r\n0B \r\n world, yes\r\n0\r\nX-Trailer: t\r\n\r\n".utf8)

    /// Fed in pieces split at every offset, the scanner ends at the same byte as fed whole, and leaves the next
    /// message's bytes alone.
    @Test func chunkedScannerFindsTheEndWhateverThePieces() throws {
        let next = Array("GET / HTTP/1.1\r\n".utf8)
        let stream = Self.chunked + next
        for split in 0...stream.count {
            var scanner = HTTPChunkedScanner()
            var taken = 0
            for piece in [Array(stream[0..<split]), Array(stream[split...])] where !scanner.isDone {
                taken += try piece.withUnsafeBytes { try scanner.scan($0) }
            }
            #expect(scanner.isDone, "split at \(split)")
            #expect(taken == Self.chunked.count, "split at \(split)")
        }
        // Byte by byte too.
        var scanner = HTTPChunkedScanner()
        var taken = 0
        for byte in stream where !scanner.isDone { taken += try [byte].withUnsafeBytes { try scanner.scan($0) } }
        #expect(taken == Self.chunked.count)
    }

    @Test(arguments: ["x\r\n", "5\r\nhelloXX", "5\nhello\r\n", "-1\r\n", "5 x\r\n", "5;\u{1}\r\n",
                      "0\r\nbad\u{1}trailer\r\n\r\n", "fffffffffffffffff\r\n"])
    func chunkedScannerRefusesBadFraming(text: String) {
        var scanner = HTTPChunkedScanner()
        #expect(throws: HTTPParseError.self) { _ = try Array(text.utf8).withUnsafeBytes { try scanner.scan($0) } }
    }

    @Test func chunkedScannerBoundsItsLines() {
        var scanner = HTTPChunkedScanner()
        let long = Array("1;" .utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: HTTPChunkedScanner.maxSizeLineBytes)
        #expect(throws: HTTPParseError.self) { _ = try long.withUnsafeBytes { try scanner.scan($0) } }
    }

    @Test func bodyTrackerTakesExactlyTheBody() throws {
        var length = HTTPBodyTracker(.length(5))
        #expect(try Array("hel".utf8).withUnsafeBytes { try length.take($0) } == 3)
        #expect(!length.isComplete)
        #expect(try Array("loNEXT".utf8).withUnsafeBytes { try length.take($0) } == 2)
        #expect(length.isComplete)
        var none = HTTPBodyTracker(.none)
        #expect(none.isComplete)
        #expect(try Array("x".utf8).withUnsafeBytes { try none.take($0) } == 0)
        var close = HTTPBodyTracker(.untilClose)
        #expect(try Array("xyz".utf8).withUnsafeBytes { try close.take($0) } == 3)
        #expect(close.endsAtClose && !close.isComplete)
    }

    @Test func proxyRequestHead() throws {
        let parser = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 1 << 40))
        let text = "POST /v1/chat?x=1 HTTP/1.1\r\nHost: API.example.com:8080\r\nTransfer-Encoding: chunked\r\n"
            + "Expect: 100-continue\r\n\r\n5\r\n"
        let head = try #require(try Array(text.utf8).withUnsafeBytes { try parser.parseProxyHead($0) })
        #expect(head.method == "POST" && head.path == "/v1/chat" && head.host == "api.example.com")
        #expect(head.body == .chunked && head.expectsContinue && head.keepAlive && !head.isIdempotent)
        #expect(head.headLength == text.utf8.count - 3)
        let upgrade = "GET /ws HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n"
        #expect(try Array(upgrade.utf8).withUnsafeBytes { try parser.parseProxyHead($0) }?.isUpgrade == true)
        let smuggle = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(throws: HTTPParseError.self) { _ = try Array(smuggle.utf8).withUnsafeBytes { try parser.parseProxyHead($0) } }
        let big = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 107374182400\r\n\r\n"
        #expect(try Array(big.utf8).withUnsafeBytes { try parser.parseProxyHead($0) }?.body == .length(107_374_182_400))
    }

    @Test func proxyResponseHeadFraming() throws {
        let parser = HTTPResponseParser()
        func head(_ text: String, method: String = "GET") throws -> HTTPProxyResponse? {
            try Array(text.utf8).withUnsafeBytes { try parser.parseProxyHead($0, requestMethod: method) }
        }
        #expect(try head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")?.body == .length(10))
        #expect(try head("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", method: "HEAD")?.body == HTTPMessageBody.none)
        #expect(try head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")?.body == .chunked)
        let close = try #require(try head("HTTP/1.1 200 OK\r\n\r\n"))
        #expect(close.body == .untilClose && !close.keepAlive)
        #expect(try head("HTTP/1.1 100 Continue\r\n\r\n")?.isInterim == true)
        #expect(try head("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")?.isInterim == false)
        #expect(try head("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n")?.keepAlive == false)
        #expect(try head("HTTP/1.1 204 No Content\r\n\r\n")?.body == HTTPMessageBody.none)
        #expect(try head("HTTP/1.1 200 OK\r\nContent-Le") == nil)
    }
}
