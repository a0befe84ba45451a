import Testing
@testable import RelayProtocol

@Suite struct HTTPRequestParserTests {
    let parser = HTTPRequestParser()

    @Test func parsesSimpleGet() throws {
        let text = "GET /status HTTP/1.1\r\nHost: admin\r\nAccept: */*\r\n\r\n"
        let result = parser.parse(text)
        let expected = HTTPRequest(
            method: "GET", target: "/status", path: "/status", pathSegments: ["status"], version: .http1_1,
            headers: ["Host": "admin", "Accept": "*/*"], body: [], keepAlive: true)
        #expect(result == .request(expected, consumed: text.utf8.count))
    }

    @Test func parsesPostWithContentLengthBody() throws {
        let text = "POST /backends/web/drain HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n{\"a\": true}"
        let request = try #require(parser.parse(text).request)
        #expect(request.method == "POST")
        #expect(request.pathSegments == ["backends", "web", "drain"])
        #expect(request.body == Array("{\"a\": true}".utf8))
        #expect(parser.parse(text).consumed == text.utf8.count)
    }

    @Test func splitsPipelinedRequestsAtConsumed() throws {
        let first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
        let second = "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
        let buffer = Array((first + second).utf8)
        let one = parser.parse(buffer)
        let consumed = try #require(one.consumed)
        #expect(consumed == first.utf8.count)
        #expect(one.request?.body == Array("abc".utf8))
        let two = parser.parse(buffer[consumed...])
        #expect(two.request?.path == "/b")
        #expect(two.request?.keepAlive == false)
        #expect(two.consumed == second.utf8.count)
    }

    @Test(arguments: [
        "GET /status HTTP/1.1\r\nHost: admin\r\nAccept: */*\r\n\r\n",
        "\r\n\r\nPOST /x?a=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "OPTIONS * HTTP/1.0\r\n\r\n",
    ])
    func needsMoreAtEverySplitPoint(text: String) throws {
        let bytes = Array(text.utf8)
        for end in 0..<bytes.count {
            #expect(parser.parse(bytes[..<end]) == .needMore, "prefix of \(end) bytes")
        }
        #expect(parser.parse(bytes).consumed == bytes.count)
    }

    @Test func looksUpHeadersIgnoringCase() throws {
        let text = "GET / HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer t\r\nX-Tag: one\r\nx-tag: two\r\n\r\n"
        let headers = try #require(parser.parse(text).request).headers
        #expect(headers["authorization"] == "Bearer t")
        #expect(headers["AUTHORIZATION"] == "Bearer t")
        #expect(headers["x-TAG"] == "one")
        #expect(headers.values(for: "X-Tag") == ["one", "two"])
        #expect(headers["missing"] == nil)
        #expect(headers.contains("HOST"))
        #expect(headers.map(\.name) == ["Host", "Authorization", "X-Tag", "x-tag"])
    }

    @Test func trimsWhitespaceAroundValuesButKeepsInnerWhitespace() throws {
        let text = "GET / HTTP/1.1\r\nHost:h\r\nX-A: \t a  b \t\r\nX-Empty:\r\nX-Blank:   \r\n\r\n"
        let headers = try #require(parser.parse(text).request).headers
        #expect(headers["x-a"] == "a  b")
        #expect(headers["host"] == "h")
        #expect(headers["x-empty"] == "")
        #expect(headers["x-blank"] == "")
    }

    @Test(arguments: [
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, CLOSE\r\n\r\n", false),
        ("GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\n\r\n", false),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n", false),
    ])
    func keepAliveFollowsVersionAndConnection(text: String, keepAlive: Bool) throws {
        #expect(try #require(parser.parse(text).request).keepAlive == keepAlive)
    }

    @Test func toleratesUpToTwoEmptyLinesBeforeTheRequest() throws {
        let text = "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"
        #expect(parser.parse(text).consumed == text.utf8.count)
        #expect(parser.parse("\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").errorStatus == 400)
    }

    @Test func acceptsBothVersionsAndAsteriskForOptions() throws {
        #expect(parser.parse("GET / HTTP/1.0\r\n\r\n").request?.version == .http1_0)
        #expect(parser.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").request?.version == .http1_1)
        let options = try #require(parser.parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").request)
        #expect(options.target == "*")
        #expect(options.path == "*")
        #expect(options.pathSegments.isEmpty)
    }

    @Test func keepsTheMethodAsSent() throws {
        #expect(parser.parse("get / HTTP/1.1\r\nHost: h\r\n\r\n").request?.method == "get")
        #expect(parser.parse("X-CUSTOM.1 / HTTP/1.1\r\nHost: h\r\n\r\n").request?.method == "X-CUSTOM.1")
    }

    @Test func requestWithoutFramingHasEmptyBodyAndLeavesTheRestUnread() throws {
        let text = "DELETE /x HTTP/1.1\r\nHost: h\r\n\r\nleftover"
        let result = parser.parse(text)
        #expect(result.request?.body == [])
        #expect(result.consumed == text.utf8.count - "leftover".utf8.count)
    }

    @Test func acceptsRepeatedAgreeingContentLengths() throws {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 002\r\n\r\nok"
        #expect(parser.parse(text).request?.body == Array("ok".utf8))
    }

    @Test func acceptsBodyOfExactlyTheLimitAndHeadOfExactlyTheLimit() throws {
        let limits = HTTPLimits(maxHeaderBytes: 64, maxBodyBytes: 4)
        let strict = HTTPRequestParser(limits: limits)
        let base = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nX: "
        let head = base + String(repeating: "a", count: 64 - base.utf8.count - 4) + "\r\n\r\n"
        #expect(head.utf8.count == 64)
        #expect(strict.parse(head + "body").request?.body == Array("body".utf8))
        let over = base + String(repeating: "a", count: 64 - base.utf8.count - 3) + "\r\n\r\n"
        #expect(strict.parse(over + "body").errorStatus == 431)
    }

    @Test func acceptsRequestLineOfExactlyTheLimit() throws {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxRequestLineBytes: 20))
        let line = "GET /" + String(repeating: "a", count: 6) + " HTTP/1.1"
        #expect(line.utf8.count == 20)
        #expect(strict.parse(line + "\r\nHost: h\r\n\r\n").request != nil)
        #expect(strict.parse("GET /" + String(repeating: "a", count: 7) + " HTTP/1.1\r\n").errorStatus == 414)
    }

    @Test func parsesFromAnUnsafeBufferAndAnArraySlice() throws {
        let bytes = Array("xxGET / HTTP/1.1\r\nHost: h\r\n\r\n".utf8)
        let fromSlice = parser.parse(bytes[2...])
        let fromPointer = bytes[2...].withUnsafeBytes { parser.parse($0) }
        #expect(fromSlice.consumed == bytes.count - 2)
        #expect(fromSlice == fromPointer)
    }

    @Test func valuesMayCarryObsTextAndTabs() throws {
        var bytes = Array("GET / HTTP/1.1\r\nHost: h\r\nX: a\tb ".utf8)
        bytes += [0xC3, 0xA9]
        bytes += Array("\r\n\r\n".utf8)
        #expect(parser.parse(bytes).request?.headers["x"] == "a\tb é")
    }
}
