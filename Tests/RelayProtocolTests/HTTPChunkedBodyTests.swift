import Testing
@testable import RelayProtocol

@Suite struct HTTPChunkedBodyTests {
    let parser = HTTPRequestParser()
    let head = "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"

    @Test func decodesChunksAndDropsExtensionsAndTrailers() throws {
        let body = "5;name=value\r\nhello\r\n1 ; ext\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
        let result = parser.parse(head + body + "NEXT")
        let request = try #require(result.request)
        #expect(request.body == Array("hello 0123456789".utf8))
        #expect(request.headers["x-trailer"] == nil)
        #expect(result.consumed == (head + body).utf8.count)
    }

    @Test func acceptsCodingNamesInAnyCaseAndEmptyListElements() throws {
        let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , CHUNKED\r\n\r\n0\r\n\r\n"
        #expect(parser.parse(text).request?.body == [])
    }

    @Test func emptyChunkedBodyIsJustTheLastChunk() throws {
        #expect(parser.parse(head + "000\r\n\r\n").request?.body == [])
    }

    @Test(arguments: [
        "g\r\n\r\n", "\r\n", ";x\r\n", "5\r\nhelloXX0\r\n\r\n", "5\r\nhello\n0\r\n\r\n", "5x\r\nhello\r\n0\r\n\r\n",
        "5 x\r\nhello\r\n0\r\n\r\n", "5;\u{1}\r\nhello\r\n0\r\n\r\n", "0\r\nBad Trailer: v\r\n\r\n",
        "0\r\n folded\r\n\r\n", "-5\r\nhello\r\n0\r\n\r\n", "+5\r\nhello\r\n0\r\n\r\n", "0x5\r\nhello\r\n0\r\n\r\n",
    ])
    func refusesMalformedChunks(body: String) {
        #expect(parser.parse(head + body).errorStatus == 400)
    }

    @Test func chunksOverTheBodyLimitAreRefusedAtTheSizeLine() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxBodyBytes: 10))
        #expect(strict.parse(head + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n").request?.body.count == 10)
        #expect(strict.parse(head + "5\r\nhello\r\n6\r\n").errorStatus == 413)
        #expect(strict.parse(head + "B\r\n").errorStatus == 413)
        #expect(parser.parse(head + "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\r\n").errorStatus == 413)
    }

    @Test func framingOverItsLimitIsRefused() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxChunkedFramingBytes: 32))
        #expect(strict.parse(head + String(repeating: "1\r\na\r\n", count: 4) + "0\r\n\r\n").request != nil)
        #expect(strict.parse(head + String(repeating: "1\r\na\r\n", count: 8)).errorStatus == 413)
        #expect(strict.parse(head + "1;" + String(repeating: "e", count: 40)).errorStatus == 413)
        #expect(strict.parse(head + "0\r\nTrailer: " + String(repeating: "t", count: 40)).errorStatus == 413)
    }

    @Test func tooManyTrailersAreRefused() {
        let strict = HTTPRequestParser(limits: HTTPLimits(maxHeaderCount: 2))
        #expect(strict.parse(head + "0\r\nA: 1\r\nB: 2\r\n\r\n").request != nil)
        #expect(strict.parse(head + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n").errorStatus == 431)
    }

    @Test func waitsForDataEvenWhenItLooksLikeFraming() {
        #expect(parser.parse(head + "5\r\n0\r\n\r") == .needMore)
        #expect(parser.parse(head + "5\r\n0\r\n\r\n\r\n0\r\n\r\n").request?.body == Array("0\r\n\r\n".utf8))
    }
}
