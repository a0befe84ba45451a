import Testing
import RelayIO
import RelayProtocol
@testable import RelayCore

/// The heads an http listener writes: the client's field lines copied as they came, the hop-by-hop ones dropped,
/// the forwarded fields extended, on the byte.
struct HTTPRewriteTests {
    static func head(_ text: String) throws -> HTTPProxyRequest {
        let parser = HTTPRequestParser()
        return try #require(try Array(text.utf8).withUnsafeBytes { try parser.parseProxyHead($0) })
    }

    static func rewritten(_ text: String, client: String = "192.0.2.7", requestID: UInt64? = 0xaa,
                          closeUpstream: Bool = false) throws -> String {
        let head = try head(text)
        let client = HTTPRewrite.Client(try SocketAddress(ip: client, port: 50_000))
        let bytes = HTTPRewrite.request(head, route: nil, client: client,
                                        server: try SocketAddress(ip: "127.0.0.1", port: 8080),
                                        requestID: requestID, closeUpstream: closeUpstream)
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test func fieldLinesAreCopiedAndTheProxysFieldsAdded() throws {
        let out = try Self.rewritten("GET /a?b=1 HTTP/1.1\r\nHost: Api.Example.com:8443\r\nAccept:  */* \r\n"
                                     + "Connection: keep-alive, X-Secret\r\nx-secret: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
                                     + "X-Forwarded-Proto: https\r\n\r\n")
        #expect(out == "GET /a?b=1 HTTP/1.1\r\nHost: Api.Example.com:8443\r\nAccept:  */* \r\n"
                + "X-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\n"
                + "Forwarded: for=192.0.2.7;proto=http;host=\"Api.Example.com:8443\"\r\n"
                + "X-Request-Id: 00000000000000aa\r\n\r\n")
    }

    @Test func earlierProxiesAreKeptInOrder() throws {
        let out = try Self.rewritten("POST /x HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1\r\nHost: h\r\n"
                                     + "Forwarded: for=10.0.0.1\r\nX-Forwarded-For: 10.0.0.2, 10.0.0.3\r\n"
                                     + "Content-Length: 0\r\n\r\n", client: "2001:db8::5", requestID: nil)
        #expect(out == "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n"
                + "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 2001:db8::5\r\nX-Forwarded-Proto: http\r\n"
                + "Forwarded: for=10.0.0.1, for=\"[2001:db8::5]\";proto=http;host=\"h\"\r\n\r\n")
    }

    @Test func http10WithoutHostGetsTheServersAndClose() throws {
        let out = try Self.rewritten("GET / HTTP/1.0\r\nConnection: Host\r\nHost: dropped\r\n\r\n", requestID: nil)
        #expect(out == "GET / HTTP/1.0\r\nHost: 127.0.0.1:8080\r\nX-Forwarded-For: 192.0.2.7\r\n"
                + "X-Forwarded-Proto: http\r\nForwarded: for=192.0.2.7;proto=http\r\nConnection: close\r\n\r\n")
    }

    @Test func anUpgradeKeepsItsFields() throws {
        let out = try Self.rewritten("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                     + "Sec-WebSocket-Key: k\r\n\r\n", requestID: nil, closeUpstream: true)
        #expect(out == "GET /ws HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: k\r\nX-Forwarded-For: 192.0.2.7\r\n"
                + "X-Forwarded-Proto: http\r\nForwarded: for=192.0.2.7;proto=http;host=\"h\"\r\n"
                + "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n")
    }

    @Test func theHeadKnowsItsRoutingFacts() throws {
        let head = try Self.head("\r\nGET /v1/chat?x=%41 HTTP/1.1\r\nHOST: [::1]:80\r\nX-Request-Id: r\r\n"
                                 + "Expect: 100-Continue\r\nContent-Length: 5\r\n\r\n")
        #expect(head.host == "[::1]" && head.path == "/v1/chat" && head.hasRequestID && head.expectsContinue)
        #expect(head.body == .length(5) && head.keepAlive && head.value(of: "x-request-id") == "r")
        #expect(head.headers.count == 4 && head.lines.map(\.role) == [.host, .plain, .plain, .plain])
        #expect(try Self.head("GET / HTTP/1.1\r\nHost: Example.COM:80\r\n\r\n").host == "example.com")
    }
}
