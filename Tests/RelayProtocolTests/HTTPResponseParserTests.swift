import Testing
@testable import RelayProtocol

/// The client side's response parser: the framings etcd and other servers use, and bounded refusals.
@Suite struct HTTPResponseParserTests {
    let parser = HTTPResponseParser(limits: HTTPLimits(maxBodyBytes: 1024))

    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func contentLengthBodyAndWhatFollows() throws {
        let wire = bytes("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1")
        let (response, used) = try #require(try parser.parse(wire))
        #expect(response.status == 200)
        #expect(response.body == bytes("{}"))
        #expect(response.keepAlive)
        #expect(response.headers["content-type"] == "application/json")
        #expect(used == wire.count - "HTTP/1.1".count)
    }

    @Test func chunkedBody() throws {
        let wire = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n3;x=y\r\n\":1\r\n1\r\n}\r\n0\r\n\r\n")
        let (response, used) = try #require(try parser.parse(wire))
        #expect(response.body == bytes("{\"a\":1}"))
        #expect(used == wire.count)
    }

    @Test func incompleteIsNilAtEveryCut() throws {
        let wire = bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        for cut in 0..<wire.count {
            #expect(try parser.parse(Array(wire.prefix(cut))) == nil)
        }
        #expect(throws: HTTPParseError.self) { try parser.parse(Array(wire.prefix(20)), atEnd: true) }
    }

    @Test func closeDelimitedBodyEndsAtTheEnd() throws {
        let wire = bytes("HTTP/1.0 200 OK\r\n\r\nhello")
        #expect(try parser.parse(wire) == nil)
        let (response, _) = try #require(try parser.parse(wire, atEnd: true))
        #expect(response.body == bytes("hello"))
        #expect(!response.keepAlive)
    }

    @Test func connectionCloseAndNoBodyStatuses() throws {
        let (closing, _) = try #require(try parser.parse(bytes("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")))
        #expect(!closing.keepAlive)
        #expect(closing.body.isEmpty)
    }

    @Test(arguments: [
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 700 Odd\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
    ])
    func malformedRepliesAreErrors(_ text: String) {
        #expect(throws: HTTPParseError.self) { try parser.parse(bytes(text)) }
    }

    @Test func anEndlessHeadIsRefusedAtTheLimit() {
        let wire = bytes("HTTP/1.1 200 OK\r\n") + Array(repeating: UInt8(ascii: "a"), count: 20_000)
        #expect(throws: HTTPParseError.self) { try parser.parse(wire) }
    }
}
