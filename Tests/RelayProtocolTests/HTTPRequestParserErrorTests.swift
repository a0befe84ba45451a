import Testing
@testable import RelayProtocol

@Suite struct HTTPRequestParserErrorTests {
    let parser = HTTPRequestParser()

    @Test(arguments: [
        // Line endings
        "GET / HTTP/1.1\nHost: h\n\n",
        "GET / HTTP/1.1\r\nHost: h\n\r\n",
        "GET / HTTP/1.1\rHost: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n\rX",
        "\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        // Request line
        "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",
        " GET / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /\r\nHost: h\r\n\r\n",
        "GET\r\nHost: h\r\n\r\n",
        "GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n",
        "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET / http/1.1\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.1x\r\nHost: h\r\n\r\n",
        "GET / HTTP/11\r\nHost: h\r\n\r\n",
        "GET / HTTPS/1.1\r\nHost: h\r\n\r\n",
        // Request-target
        "GET http://admin/status HTTP/1.1\r\nHost: admin\r\n\r\n",
        "CONNECT admin:443 HTTP/1.1\r\nHost: admin\r\n\r\n",
        "GET * HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /é HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /%G1 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /%4 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a% HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /a%00b HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /?a=%00 HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /?a=%zz HTTP/1.1\r\nHost: h\r\n\r\n",
        "GET /%C3 HTTP/1.1\r\nHost: h\r\n\r\n",
        // Header fields
        "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A : v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A\t: v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX(A): v\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: v\r\n folded\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: v\r\n\tfolded\r\n\r\n",
        "GET / HTTP/1.1\r\n Host: h\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{0}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{1B}b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\u{7F}b\r\n\r\n",
        // Host
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n",
        "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        // Body framing
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999\r\n"
            + "Content-Length: 99999999999999999998\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n",
    ])
    func malformedRequestIsBadRequest(text: String) {
        #expect(parser.parse(text).errorStatus == 400)
    }

    @Test(arguments: [
        "GET / HTTP/2.0\r\nHost: h\r\n\r\n",
        "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        "GET / HTTP/0.9\r\nHost: h\r\n\r\n",
        "GET / HTTP/3\r\nHost: h\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ])
    func otherVersionIsNotSupported(text: String) {
        #expect(parser.parse(text).errorStatus == 505)
    }

    @Test func http2PrefaceIsRefusedWithoutWaitingForTheRest() {
        #expect(parser.parse("PRI * HTTP/2.0\r\n").errorStatus == 505)
    }

    @Test func transferCodingBeforeChunkedIsNotImplemented() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
        #expect(parser.parse(text).errorStatus == 501)
        let split = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        #expect(parser.parse(split).errorStatus == 501)
    }

    @Test func longRequestLineIsRefusedAsSoonAsTheLimitIsPassed() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxRequestLineBytes: 100))
        let start = "GET /" + String(repeating: "a", count: 95)
        #expect(start.utf8.count == 100)
        #expect(strict.parse(start) == .needMore)
        let result = strict.parse(start + "b")
        #expect(result.errorStatus == 414)
        #expect(parser.parse("GET /" + String(repeating: "a", count: 9_000)).errorStatus == 414)
    }

    @Test func largeHeadIsRefusedAsSoonAsItCannotFit() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxHeaderBytes: 100))
        let start = "GET / HTTP/1.1\r\nHost: h\r\nX: "
        let exact = Array((start + String(repeating: "v", count: 100 - start.utf8.count - 4) + "\r\n\r\n").utf8)
        #expect(exact.count == 100)
        #expect((0..<100).allSatisfy { strict.parse(exact[..<$0]) == .needMore })
        #expect(strict.parse(exact).consumed == 100)
        // One byte more in the value: once its line has ended, the blank line can no longer fit.
        let over = Array((start + String(repeating: "v", count: 100 - start.utf8.count - 3) + "\r\n\r\n").utf8)
        #expect(strict.parse(over[..<98]) == .needMore)
        #expect(strict.parse(over[..<99]).errorStatus == 431)
        #expect(strict.parse(Array(start.utf8) + Array(repeating: UInt8(ascii: "v"), count: 200)).errorStatus == 431)
        let manyLines = "GET / HTTP/1.1\r\n" + String(repeating: "X: 1\r\n", count: 3_000)
        #expect(parser.parse(manyLines).errorStatus == 431)
    }

    @Test func tooManyHeaderFieldsIsRefused() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxHeaderCount: 3))
        let three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"
        #expect(strict.parse(three).request != nil)
        let four = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n"
        #expect(strict.parse(four).errorStatus == 431)
    }

    @Test(arguments: [
        "2000000", "1048577", "99999999999999999999999", "18446744073709551616", "9223372036854775808",
        "000000000000000000000000000000000000000000000000000000000000000000009999999",
    ])
    func bodyOverTheLimitIsRefusedBeforeItArrives(length: String) {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \(length)\r\n\r\n"
        #expect(parser.parse(text).errorStatus == 413)
    }

    @Test func errorsSayWhatWasWrong() {
        let noColon = parser.parse("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nBroken\r\n\r\n")
        #expect(noColon == .invalid(HTTPParseError(status: 400, reason: "header line 3 has no colon")))
        let error = HTTPParseError(status: 431, reason: "more than 64 header fields")
        #expect(error.description == "431 Request Header Fields Too Large: more than 64 header fields")
    }

    @Test func badRequestLineIsRefusedBeforeTheHeadEnds() {
        #expect(parser.parse("GET / http/1.1\r\nHost: h\r\n").errorStatus == 400)
        #expect(parser.parse("GET / HTTP/1.1\r\nBad Name: v\r\n").errorStatus == 400)
    }

    @Test func negativeLimitsRefuseEverythingWithoutTrapping() {
        let broken = HTTPRequestParser(
            limits: HTTPLimits(maxRequestLineBytes: -1, maxHeaderBytes: -1, maxHeaderCount: -1, maxBodyBytes: -1))
        #expect(broken.parse("GET / HTTP/1.1\r\nHost: h\r\n\r\n").errorStatus == 414)
        let huge = HTTPRequestParser(
            limits: HTTPLimits(
                maxRequestLineBytes: .max, maxHeaderBytes: .max, maxHeaderCount: .max, maxBodyBytes: .max,
                maxChunkedFramingBytes: .max))
        #expect(huge.parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 999999999999\r\n\r\n") == .needMore)
    }
}
