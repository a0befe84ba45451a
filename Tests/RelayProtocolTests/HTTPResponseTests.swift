import Testing
@testable import RelayProtocol

@Suite struct HTTPResponseTests {
    func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    @Test func encodesStatusLineFieldsLengthConnectionAndBody() {
        let response = HTTPResponse.text(200, "ok\n")
        #expect(
            text(response.encode(keepAlive: true))
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\n"
                + "Connection: keep-alive\r\n\r\nok\n")
        #expect(
            text(response.encode(keepAlive: false, extraHeaders: [("Server", "relayd")]))
                == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nServer: relayd\r\n"
                + "Content-Length: 3\r\nConnection: close\r\n\r\nok\n")
    }

    @Test func jsonResponseIsTypedJSON() {
        let bytes = HTTPResponse.json(201, "{}").encode(keepAlive: true)
        #expect(
            text(bytes)
                == "HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n"
                + "Connection: keep-alive\r\n\r\n{}")
    }

    @Test func errorBodyIsEscapedJSON() {
        let response = HTTPResponse.error(404, "no \"web\" \\ here\n\u{1}é")
        #expect(text(response.body) == "{\"error\":\"no \\\"web\\\" \\\\ here\\n\\u0001é\",\"status\":404}\n")
        #expect(response.status == 404)
        #expect(response.headers.first?.1 == "application/json; charset=utf-8")
    }

    @Test func parseErrorBecomesItsErrorResponse() {
        let response = HTTPResponse.error(HTTPParseError(status: 431, reason: "more than 64 header fields"))
        #expect(response.status == 431)
        #expect(text(response.body) == "{\"error\":\"more than 64 header fields\",\"status\":431}\n")
    }

    @Test func encoderOwnsTheFramingFields() {
        let response = HTTPResponse(
            status: 200,
            headers: [("content-length", "999"), ("Connection", "keep-alive"), ("Transfer-Encoding", "chunked")],
            body: Array("abc".utf8))
        #expect(
            text(response.encode(keepAlive: false))
                == "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    }

    @Test func valuesCannotInjectLinesAndBadNamesAreDropped() {
        let response = HTTPResponse(
            status: 200, headers: [("X-A", "a\r\nSet-Cookie: x\u{0}"), ("Bad Name", "v"), ("", "v"), ("X-B", "b\tc")])
        #expect(
            text(response.encode(keepAlive: true))
                == "HTTP/1.1 200 OK\r\nX-A: a  Set-Cookie: x \r\nX-B: b\tc\r\nContent-Length: 0\r\n"
                + "Connection: keep-alive\r\n\r\n")
    }

    @Test func noContentHasNeitherLengthNorBody() {
        let response = HTTPResponse(status: 204, body: Array("ignored".utf8))
        #expect(text(response.encode(keepAlive: true)) == "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n")
    }

    @Test func headAnswerKeepsTheLengthButNotTheBody() {
        let bytes = HTTPResponse.text(200, "hello").encode(keepAlive: true, omitBody: true)
        #expect(text(bytes).hasSuffix("Content-Length: 5\r\nConnection: keep-alive\r\n\r\n"))
    }

    @Test func unknownStatusHasEmptyPhraseAndOutOfRangeStatusIsServerError() {
        #expect(text(HTTPResponse(status: 599).encode(keepAlive: false)).hasPrefix("HTTP/1.1 599 \r\n"))
        #expect(
            text(HTTPResponse(status: 42).encode(keepAlive: false)).hasPrefix("HTTP/1.1 500 Internal Server Error\r\n"))
    }

    @Test(arguments: [
        (200, "OK"), (201, "Created"), (202, "Accepted"), (204, "No Content"), (400, "Bad Request"),
        (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"), (405, "Method Not Allowed"),
        (408, "Request Timeout"), (413, "Content Too Large"), (414, "URI Too Long"),
        (415, "Unsupported Media Type"), (429, "Too Many Requests"), (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"), (501, "Not Implemented"), (503, "Service Unavailable"),
        (505, "HTTP Version Not Supported"),
    ])
    func knowsTheStandardPhrases(status: Int, phrase: String) {
        #expect(HTTPResponse.reasonPhrase(status) == phrase)
    }

    @Test func contentLengthCountsBytesNotCharacters() {
        let bytes = HTTPResponse.error(400, "é").encode(keepAlive: false)
        let tail = "Content-Length: 28\r\nConnection: close\r\n\r\n{\"error\":\"é\",\"status\":400}\n"
        #expect(text(bytes).hasSuffix(tail))
    }
}
