import Testing
@testable import RelayProtocol

@Suite struct HTTPRequestTargetTests {
    let parser = HTTPRequestParser()

    func request(target: String) throws -> HTTPRequest {
        try #require(parser.parse("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n").request)
    }

    @Test func splitsPathIntoSegmentsAndQueryIntoPairs() throws {
        let request = try request(target: "/backends/web/1.2.3.4:80/drain?x=1")
        #expect(request.target == "/backends/web/1.2.3.4:80/drain?x=1")
        #expect(request.path == "/backends/web/1.2.3.4:80/drain")
        #expect(request.pathSegments == ["backends", "web", "1.2.3.4:80", "drain"])
        #expect(request.query == [HTTPQueryItem(name: "x", value: "1")])
        #expect(request.queryValue("x") == "1")
        #expect(request.queryValue("y") == nil)
    }

    @Test func encodedSlashStaysInsideItsSegment() throws {
        let request = try request(target: "/backends/a%2Fb/c")
        #expect(request.pathSegments == ["backends", "a/b", "c"])
        #expect(request.path == "/backends/a/b/c")
    }

    @Test func dropsEmptySegmentsAndKeepsDotSegments() throws {
        #expect(try request(target: "/").pathSegments == [])
        #expect(try request(target: "//a///b/").pathSegments == ["a", "b"])
        #expect(try request(target: "/a/../b/.").pathSegments == ["a", "..", "b", "."])
    }

    @Test func decodesPercentEscapesAsUTF8InAnyCase() throws {
        let request = try request(target: "/caf%C3%A9/%5b%3A%5D/a+b")
        #expect(request.pathSegments == ["café", "[:]", "a+b"])
        #expect(request.path == "/café/[:]/a+b")
    }

    @Test func readsPlusAsSpaceAndDecodesQueryPairs() throws {
        let request = try request(target: "/q?name=a+b%2Bc&flag&&empty=&=v&k=1=2&k=3")
        #expect(
            request.query == [
                HTTPQueryItem(name: "name", value: "a b+c"),
                HTTPQueryItem(name: "flag", value: ""),
                HTTPQueryItem(name: "empty", value: ""),
                HTTPQueryItem(name: "", value: "v"),
                HTTPQueryItem(name: "k", value: "1=2"),
                HTTPQueryItem(name: "k", value: "3"),
            ])
        #expect(request.path == "/q")
    }

    @Test func emptyQueryHasNoPairs() throws {
        let request = try request(target: "/x?")
        #expect(request.query.isEmpty)
        #expect(request.path == "/x")
        #expect(request.target == "/x?")
    }

    @Test(arguments: ["/%G1", "/%4", "/a%", "/%%41", "/a%00", "/%FF", "/?x=%0", "/?%00=1", "/?x=%C3%28"])
    func refusesBadEscapes(target: String) {
        let result = parser.parse("GET \(target) HTTP/1.1\r\nHost: h\r\n\r\n")
        #expect(result.errorStatus == 400)
    }

    @Test func questionMarkInQueryIsData() throws {
        #expect(try request(target: "/a?b=c?d").query == [HTTPQueryItem(name: "b", value: "c?d")])
    }
}
