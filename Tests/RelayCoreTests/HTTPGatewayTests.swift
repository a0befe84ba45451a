import Foundation
import Testing
import TestSupport
import RelayIO
import RelayProtocol
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// `protocol: "http"`: routes by host, path, method and header; keep-alive on both sides; the proxy's own headers;
/// bodies streamed both ways; `Expect: 100-continue`; WebSocket upgrades; relayd's own answers (400, 404, 408, 431,
/// 502, 504) and retries that move idempotent requests only.
@Suite(.serialized) struct HTTPGatewayTests {
    /// An HTTP/1.1 server for the tests: answers `name path body=<bytes> <request headers>` with a length, keeps the
    /// connection open; `/ws` upgrades and then echoes; `/hang` never answers; `/close` closes without answering.
    static func upstream(_ name: String, status: Int = 200) throws -> TestBackend {
        try TestBackend { connection in
            var buffer: [UInt8] = []
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
            defer { chunk.deallocate() }
            func fill() async throws -> Bool {
                let count = try await connection.read(into: chunk, deadline: EventLoop.now() + 20_000_000_000)
                buffer += chunk[0..<count]
                return count > 0
            }
            while true {
                var headEnd: Int?
                while headEnd == nil {
                    if let range = buffer.firstRange(of: Array("\r\n\r\n".utf8)) { headEnd = range.upperBound; break }
                    guard try await fill() else { return }
                }
                let head = String(decoding: buffer[0..<headEnd!], as: UTF8.self)
                buffer.removeFirst(headEnd!)
                let lines = head.components(separatedBy: "\r\n")
                let target = lines[0].split(separator: " ")[1]
                let fields = lines.dropFirst().filter { !$0.isEmpty }
                func field(_ name: String) -> String? {
                    fields.first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
                        .map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
                }
                var bodyBytes = 0
                if let length = field("Content-Length").flatMap(Int.init) {
                    if field("Expect") == "100-continue" { try await connection.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) }
                    while buffer.count < length { guard try await fill() else { return } }
                    buffer.removeFirst(length)
                    bodyBytes = length
                } else if field("Transfer-Encoding") == "chunked" {
                    while buffer.firstRange(of: Array("0\r\n\r\n".utf8)) == nil { guard try await fill() else { return } }
                    let end = buffer.firstRange(of: Array("0\r\n\r\n".utf8))!.upperBound
                    bodyBytes = end
                    buffer.removeFirst(end)
                }
                switch target.split(separator: "/").last.map(String.init) ?? "" {
                case "hang":
                    try await connection.loop.sleep(for: .seconds(10))
                    return
                case "close":
                    return
                case "ws":
                    try await connection.write(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8))
                    if !buffer.isEmpty { try await connection.write(buffer) }
                    _ = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
                    return
                default:
                    let body = Array("\(name) \(target) body=\(bodyBytes)\n\(fields.joined(separator: "\n"))\n".utf8)
                    let reason = status == 200 ? "OK" : "Status"
                    try await connection.write(Array("HTTP/1.1 \(status) \(reason)\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
                }
            }
        }
    }

    /// Reads one response from `client`: status, head text, body.
    static func response(_ client: TestClient, method: String = "GET") async throws -> (status: Int, head: String, body: String) {
        var bytes: [UInt8] = []
        let parser = HTTPResponseParser(limits: HTTPLimits(maxBodyBytes: 64 << 20))
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
        defer { chunk.deallocate() }
        while true {
            if let head = try bytes.withUnsafeBytes({ try parser.parseProxyHead($0, requestMethod: method) }), !head.isInterim {
                let headText = String(decoding: bytes[0..<head.headLength], as: UTF8.self)
                if case let .length(length) = head.body {
                    while bytes.count < head.headLength + length {
                        let count = try await client.connection.read(into: chunk, deadline: EventLoop.now() + 20_000_000_000)
                        guard count > 0 else { throw TestFailure("closed mid-body") }
                        bytes += chunk[0..<count]
                    }
                    return (head.status, headText, String(decoding: bytes[head.headLength..<(head.headLength + length)], as: UTF8.self))
                }
                return (head.status, headText, String(decoding: bytes[head.headLength...], as: UTF8.self))
            } else if let head = try bytes.withUnsafeBytes({ try parser.parseProxyHead($0, requestMethod: method) }) {
                bytes.removeFirst(head.headLength)
                continue
            }
            let count = try await client.connection.read(into: chunk, deadline: EventLoop.now() + 20_000_000_000)
            guard count > 0 else { throw TestFailure("closed before a response: \(String(decoding: bytes, as: UTF8.self))") }
            bytes += chunk[0..<count]
        }
    }

    static func config(_ groups: [String: [SocketAddress]], backend: String? = "web", routes: String = "",
                       http: String = "", metrics: Bool = false) -> String {
        let text = groups.map { "\($0.key): { servers: [\($0.value.map { "\"\($0)\"" }.joined(separator: ", "))] }" }
            .joined(separator: ", ")
        return """
            { listeners: [ { name: "gw", protocol: "http", listen: "127.0.0.1:0" \(backend.map { ", backend: \"\($0)\"" } ?? ""),
                             routes: [\(routes)] \(http.isEmpty ? "" : ", http: { \(http) }") } ],
              backends: { \(text) } \(metrics ? ", metrics: { listen: \"127.0.0.1:0\" }" : "") }
            """
    }

    @Test func routesByHostPathMethodAndHeader_onKeptAliveConnections() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            let api = servers.add(try Self.upstream("api"))
            let model = servers.add(try Self.upstream("model"))
            let config = Self.config(
                ["web": [web.listener.localAddress], "api": [api.listener.localAddress],
                 "model": [model.listener.localAddress]],
                routes: """
                    { name: "api", host: ["api.example.com", "*.svc"], path_prefix: "/v1/", strip_prefix: true,
                      backend: "api", add_headers: { "x-route": "api" } },
                    { name: "model", methods: ["POST"], headers: { "x-model": "llama-3@2" }, backend: "model" }
                    """)
            try await withRelay(config) { relay in
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                let requests: [(String, String)] = [
                    ("GET /v1/chat HTTP/1.1\r\nHost: api.example.com\r\n\r\n", "api /chat"),
                    ("GET /v1/x?y=1 HTTP/1.1\r\nHost: db.svc:8080\r\nX-Request-Id: mine\r\n\r\n", "api /x?y=1"),
                    ("GET /v1/chat HTTP/1.1\r\nHost: www.example.com\r\n\r\n", "web /v1/chat"),
                    ("POST /gen HTTP/1.1\r\nHost: a\r\nX-Model: llama-3@2\r\nContent-Length: 4\r\n\r\nabcd", "model /gen body=4"),
                    ("POST /gen HTTP/1.1\r\nHost: a\r\nX-Model: other\r\nContent-Length: 4\r\n\r\nabcd", "web /gen body=4"),
                    ("GET /v1/chat HTTP/1.1\r\nHost: api.example.com\r\nConnection: keep-alive, X-Secret\r\nX-Secret: s\r\n\r\n", "api /chat"),
                ]
                for (request, expected) in requests {
                    try await client.send(request)
                    let (status, head, body) = try await Self.response(client)
                    #expect(status == 200)
                    #expect(body.hasPrefix(expected), "\(request) → \(body)")
                    #expect(!head.lowercased().contains("connection: close"))
                    #expect(body.contains("X-Forwarded-For: 127.0.0.1"))
                    #expect(body.contains("X-Forwarded-Proto: http"))
                    #expect(body.contains("Forwarded: for=127.0.0.1;proto=http"))
                    #expect(body.contains("X-Request-Id: "))
                    #expect(!body.contains("X-Secret"), "a field Connection names is hop-by-hop")
                    if expected.hasPrefix("api") { #expect(body.contains("x-route: api")) }
                }
                // Every server saw one connection: kept alive on both sides.
                #expect(web.connections.count == 1 && api.connections.count == 1 && model.connections.count == 1)
            }
        }
    }

    @Test func relaydsOwnAnswers() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            let dead = try PortReservation(.tcp)
            defer { dead.release() }
            let config = Self.config(["web": [web.listener.localAddress], "dead": [dead.address]], backend: nil,
                                     routes: """
                                         { path_prefix: "/web/", backend: "web" }, { path_prefix: "/dead/", backend: "dead" }
                                         """,
                                     http: "header_timeout: \"300ms\", response_timeout: \"500ms\", max_header_bytes: \"2KiB\", "
                                         + "max_body_bytes: \"3KiB\"")
            try await withRelay(config) { relay in
                let address = try relay.address("gw")
                func exchange(_ text: String) async throws -> (Int, String) {
                    let client = try await TestClient.connect(address)
                    defer { client.close() }
                    try await client.send(text)
                    let (status, _, body) = try await Self.response(client)
                    return (status, body)
                }
                let (notFound, notFoundBody) = try await exchange("GET /other HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(notFound == 404 && notFoundBody.contains("\"error\""))
                #expect(try await exchange("GET /web/x HTTP/1.1\r\n\r\n").0 == 400, "HTTP/1.1 without Host")
                let tooLarge = "GET /web/x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "b", count: 3000))\r\n\r\n"
                #expect(try await exchange(tooLarge).0 == 431)
                #expect(try await exchange("GET /\(String(repeating: "a", count: 1100)) HTTP/1.1\r\n\r\n").0 == 414)
                #expect(try await exchange("POST /web/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n").0 == 413)
                let chunk = "800\r\n" + String(repeating: "c", count: 2048) + "\r\n"
                #expect(try await exchange("POST /web/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           + chunk + chunk + "0\r\n\r\n").0 == 413)
                #expect(try await exchange("POST /web/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           + chunk + "0\r\n\r\n").0 == 200)
                #expect(try await exchange("GET /dead/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 502)
                let hang = try await exchange("GET /web/hang HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(hang.0 == 504, "\(hang)")
                // A slow head (slowloris) is answered 408 at header_timeout.
                let slow = try await TestClient.connect(address)
                defer { slow.close() }
                try await slow.send("GET /web/x HTTP/1.1\r\nHost: a\r\n")
                #expect(try await Self.response(slow).status == 408)
                // Still serving.
                #expect(try await exchange("GET /web/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 200)
            }
        }
    }

    @Test func aRetryMovesAnIdempotentRequestButNotAPost() async throws {
        try await withTestServers { servers in
            let closing = servers.add(try TestBackend { connection in
                // Reads the request, then closes without a byte of answer.
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
                defer { buffer.deallocate() }
                _ = try await connection.read(into: buffer, deadline: EventLoop.now() + 5_000_000_000)
            })
            let good = servers.add(try Self.upstream("good"))
            let config = Self.config(["web": [closing.listener.localAddress, good.listener.localAddress]],
                                     http: "retries: 1")
            try await withRelay(config) { relay in
                let address = try relay.address("gw")
                var moved = 0
                var failedPosts = 0
                for _ in 0..<8 {
                    let client = try await TestClient.connect(address)
                    try await client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
                    let (status, _, body) = try await Self.response(client)
                    #expect(status == 200, "GET always ends on the good server")
                    if body.hasPrefix("good") { moved += 1 }
                    client.close()
                    let post = try await TestClient.connect(address)
                    try await post.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
                    let postStatus = try await Self.response(post).status
                    if postStatus == 502 { failedPosts += 1 }
                    post.close()
                }
                #expect(moved == 8)
                #expect(failedPosts > 0, "a POST that reached the closing server is not sent again")
            }
        }
    }

    @Test func bodiesStreamBothWays_expectContinue_andWebSocket() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            try await withRelay(Self.config(["web": [web.listener.localAddress]])) { relay in
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                // Chunked upload in pieces.
                try await client.send("POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
                for _ in 0..<20 { try await client.send("400\r\n" + String(repeating: "z", count: 1024) + "\r\n") }
                try await client.send("0\r\n\r\n")
                let (status, _, body) = try await Self.response(client)
                #expect(status == 200 && body.contains("Transfer-Encoding: chunked"))
                // Expect: 100-continue: the interim answer comes first, then the body goes.
                try await client.send("POST /e HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
                let interim = try await client.read(exactly: 25)
                #expect(String(decoding: interim, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
                try await client.send("hello")
                #expect(try await Self.response(client).body.hasPrefix("web /e body=5"))
                // WebSocket: after the 101, bytes go both ways untouched.
                try await client.send("GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                      + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                var head: [UInt8] = []
                while head.firstRange(of: Array("\r\n\r\n".utf8)) == nil { head += try await client.read(exactly: 1) }
                let text = String(decoding: head, as: UTF8.self)
                #expect(text.hasPrefix("HTTP/1.1 101") && text.contains("Upgrade: websocket"))
                let frame: [UInt8] = [0x81, 0x85, 1, 2, 3, 4] + Array("hello".utf8).enumerated().map { $1 ^ UInt8($0 % 4 + 1) }
                try await client.send(frame)
                #expect(try await client.read(exactly: frame.count) == frame)
            }
        }
    }

    @Test func accessControlKeysAndRateLimits() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            let keys = try temporaryFile("# name key\nalice aaaaaaaaaaaaaaaaaaaaaaaa\nbob bbbbbbbbbbbbbbbbbbbbbbbb\n")
            defer { try? FileManager.default.removeItem(atPath: keys) }
            let config = Self.config(["web": [web.listener.localAddress]], backend: nil, routes: """
                { name: "private", path_prefix: "/private/", deny: ["127.0.0.0/8"], backend: "web" },
                { name: "v6only", path_prefix: "/v6/", allow: ["::1/128"], backend: "web" },
                { name: "keyed", path_prefix: "/keyed/", api_keys_file: "\(keys)",
                  rate_limit: { per_key: { rate: 1, interval: "1h", burst: 2 } }, backend: "web" },
                { name: "limited", path_prefix: "/limited/", rate_limit: { per_ip: { rate: 1, interval: "1h", burst: 1 } },
                  backend: "web" }
                """, metrics: true)
            try await withRelay(config) { relay in
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                func send(_ text: String) async throws -> (Int, String, String) {
                    try await client.send(text)
                    return try await Self.response(client)
                }
                #expect(try await send("GET /private/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 403)
                #expect(try await send("GET /v6/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 403)
                let (missing, missingHead, _) = try await send("GET /keyed/x HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(missing == 401 && missingHead.contains("WWW-Authenticate: Bearer"))
                #expect(try await send("GET /keyed/x HTTP/1.1\r\nHost: a\r\nX-API-Key: aaaaaaaaaaaaaaaaaaaaaaab\r\n\r\n").0 == 401)
                #expect(try await send("GET /keyed/x HTTP/1.1\r\nHost: a\r\nX-API-Key: aaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n").0 == 401)
                // Alice has a burst of two; Bob's bucket is his own.
                let bearer = "GET /keyed/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"
                #expect(try await send(bearer).0 == 200)
                #expect(try await send(bearer).0 == 200)
                let (limited, limitedHead, _) = try await send(bearer)
                #expect(limited == 429 && limitedHead.contains("Retry-After: 3600"))
                #expect(try await send("GET /keyed/x HTTP/1.1\r\nHost: a\r\nX-API-Key: bbbbbbbbbbbbbbbbbbbbbbbb\r\n\r\n").0 == 200)
                #expect(try await send("GET /limited/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 200)
                #expect(try await send("GET /limited/x HTTP/1.1\r\nHost: a\r\n\r\n").0 == 429)
                // The keep-alive connection survived every refusal.
                #expect(web.connections.count == 1)
                let metrics = try PrometheusExposition(parsing: try await http(try #require(relay.server.metricsAddress),
                                                                                "/metrics").text)
                #expect(metrics.value("relayd_http_requests_total", ["listener": "gw", "route": "keyed", "class": "2xx"]) == 3)
                #expect(metrics.value("relayd_http_requests_total", ["listener": "gw", "route": "keyed", "class": "4xx"]) == 4)
                #expect(metrics.value("relayd_http_rejected_total", ["listener": "gw", "reason": "rate_limited"]) == 2)
                #expect(metrics.value("relayd_http_rejected_total", ["listener": "gw", "reason": "forbidden"]) == 2)
                #expect(metrics.value("relayd_http_rejected_total", ["listener": "gw", "reason": "bad_api_key"]) == 2)
                #expect(metrics.value("relayd_http_request_duration_seconds_count", ["listener": "gw", "route": "limited"]) == 2)
                #expect(metrics.sum("relayd_http_server_responses_total", where: ["class": "2xx"]) == 4)
            }
        }
    }

    /// Two servers, one holding each request 150 ms: `least_requests` sends it fewer of the concurrent requests.
    @Test func leastRequestsSendsLessToTheServerThatHoldsRequestsLonger() async throws {
        try await withTestServers { servers in
            let fast = servers.add(try Self.upstream("fast"))
            let slowInner = try Self.upstream("slow")
            servers.add(slowInner)
            let slow = servers.add(try TestBackend { connection in
                // A relay in front of `slow` that waits 150 ms before passing each request on.
                let upstream = try await TCPConnection.connect(to: slowInner.listener.localAddress, on: connection.loop)
                defer { upstream.close() }
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                defer { buffer.deallocate() }
                while true {
                    let count = try await connection.read(into: buffer, deadline: EventLoop.now() + 20_000_000_000)
                    guard count > 0 else { return }
                    try await connection.loop.sleep(for: .milliseconds(150))
                    try await upstream.write(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                    let answer = try await upstream.read(into: buffer, deadline: EventLoop.now() + 20_000_000_000)
                    try await connection.write(UnsafeRawBufferPointer(rebasing: buffer[0..<answer]))
                }
            })
            var config = Self.config(["web": [fast.listener.localAddress, slow.listener.localAddress]])
            config = config.replacingOccurrences(of: "servers: [", with: "balance: \"least_requests\", servers: [")
            try await withRelay(config) { relay in
                let address = try relay.address("gw")
                let counts = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
                    for _ in 0..<6 {
                        group.addTask {
                            let client = try await TestClient.connect(address)
                            defer { client.close() }
                            var fastCount = 0
                            var slowCount = 0
                            for _ in 0..<12 {
                                try await client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
                                let body = try await Self.response(client).body
                                if body.hasPrefix("fast") { fastCount += 1 } else { slowCount += 1 }
                            }
                            return (fastCount, slowCount)
                        }
                    }
                    var total = (0, 0)
                    for try await (fastCount, slowCount) in group { total = (total.0 + fastCount, total.1 + slowCount) }
                    return total
                }
                #expect(counts.0 + counts.1 == 72)
                #expect(counts.1 * 3 < counts.0, "fast \(counts.0), slow \(counts.1)")
            }
        }
    }

    /// The listener's `idle_timeout` counts requests and answers as activity: a connection busy with requests
    /// outlives it, and one that goes quiet is closed after it.
    @Test func requestsKeepAConnectionAliveUnderTheListenersIdleTimeout() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            let config = Self.config(["web": [web.listener.localAddress]])
                .replacingOccurrences(of: "listen: \"127.0.0.1:0\"", with: "listen: \"127.0.0.1:0\", idle_timeout: \"400ms\"")
            try await withRelay(config) { relay in
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                for index in 0..<10 {
                    try await client.send("GET /busy\(index) HTTP/1.1\r\nHost: a\r\n\r\n")
                    #expect(try await Self.response(client).status == 200, "request \(index)")
                    try await Task.sleep(for: .milliseconds(120))
                }
                // Quiet now: closed by the idle timeout (not the 60 s keep-alive timeout), in bounded time.
                let ended = try await withTimeout(.seconds(10), "the idle close") { try await client.readToEnd() }
                #expect(ended.isEmpty)
            }
        }
    }

    /// With every server of the route drained, relayd answers 503 itself, with `Retry-After`.
    @Test func nothingToTryIs503() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            try await withRelay(Self.config(["web": [web.listener.localAddress]])) { relay in
                let group = try #require(relay.server.backendGroups["web"])
                for server in group.servers { await group.setDrained(server, true) }
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                try await client.send("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")
                let (status, head, body) = try await Self.response(client)
                #expect(status == 503 && head.contains("Retry-After: 1") && body.contains("no healthy server"))
            }
        }
    }

    /// A server that refuses connections costs a GET nothing: it goes to the next server (nothing was sent).
    @Test func aRefusedConnectMovesTheRequest() async throws {
        try await withTestServers { servers in
            let good = servers.add(try Self.upstream("good"))
            let dead = try PortReservation(.tcp)
            defer { dead.release() }
            try await withRelay(Self.config(["web": [dead.address, good.listener.localAddress]])) { relay in
                for _ in 0..<4 {
                    let client = try await TestClient.connect(try relay.address("gw"))
                    try await client.send("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi")
                    let (status, _, body) = try await Self.response(client)
                    #expect(status == 200 && body.hasPrefix("good /x body=2"))
                    client.close()
                }
            }
        }
    }

    /// A group with a connection pool: the first request on each loop takes a warm pooled connection instead of
    /// connecting, and then keeps it alive for the requests after it.
    @Test func aGroupsConnectionPoolServesTheFirstRequests() async throws {
        try await withTestServers { servers in
            let web = servers.add(try Self.upstream("web"))
            let config = Self.config(["web": [web.listener.localAddress]])
                .replacingOccurrences(of: "servers: [", with: "pool: { strategy: \"static\", static: { size_per_remote: 2 } }, servers: [")
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["web"])
                let pools = try #require(group.pool)
                try await eventually("the pool warm") { (pools.serverPools.first?.available ?? 0) >= 2 }
                let pool = try #require(pools.serverPools.first)
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                for index in 0..<3 {
                    try await client.send("GET /p\(index) HTTP/1.1\r\nHost: a\r\n\r\n")
                    #expect(try await Self.response(client).status == 200)
                }
                #expect(pool.hits.value == 1, "one pooled connection taken, then kept alive")
            }
        }
    }

    @Test func sendProxyGroupsAreRefusedForHTTPListeners() {
        #expect(throws: (any Error).self) {
            try RelayConfig.parse("{ listeners: [ { name: \"h\", protocol: \"http\", listen: \"127.0.0.1:0\", backend: \"w\" } ], backends: { w: { servers: [\"127.0.0.1:1\"], send_proxy: \"v1\" } } }")
        }
    }

    /// Buffers start small and grow: a 12 KiB head (under the default 16 KiB limit) and a 300 KiB answer pass
    /// on a connection whose buffers began at a few KiB, and the connection goes on after it.
    @Test func headsAndAnswersLargerThanTheFirstBufferPass() async throws {
        try await withTestServers { servers in
            let big = String(repeating: "b", count: 300 * 1024)
            let web = servers.add(try TestBackend { connection in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                defer { buffer.deallocate() }
                var pending: [UInt8] = []
                while true {
                    while pending.firstRange(of: Array("\r\n\r\n".utf8)) == nil {
                        let count = try await connection.read(into: buffer, deadline: EventLoop.now() + 20_000_000_000)
                        guard count > 0 else { return }
                        pending += buffer[0..<count]
                    }
                    let end = pending.firstRange(of: Array("\r\n\r\n".utf8))!.upperBound
                    let head = String(decoding: pending[0..<end], as: UTF8.self)
                    pending.removeFirst(end)
                    let body = head.contains("X-Big:") ? "head of \(end) bytes" : big
                    try await connection.write(Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8))
                }
            })
            try await withRelay(Self.config(["web": [web.listener.localAddress]])) { relay in
                let client = try await TestClient.connect(try relay.address("gw"))
                defer { client.close() }
                try await client.send("GET /x HTTP/1.1\r\nHost: a\r\nX-Big: \(String(repeating: "h", count: 12 * 1024))\r\n\r\n")
                let (status, _, body) = try await Self.response(client)
                #expect(status == 200 && body.hasPrefix("head of ") && Int(body.dropFirst(8).prefix { $0 != " " })! > 12 * 1024)
                try await client.send("GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
                #expect(try await Self.response(client).body == big)
                try await client.send("GET /after HTTP/1.1\r\nHost: a\r\nX-Big: 1\r\n\r\n")
                #expect(try await Self.response(client).status == 200)
            }
        }
    }

    @Test func inboundBufferGrowsToItsMaximumAndShrinksWhenEmpty() async throws {
        let loop = clientLoops.next()
        let listener = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: loop)
        defer { listener.close() }
        let left = try await TCPConnection.connect(to: listener.localAddress, on: loop)
        defer { left.close() }
        var accepted = listener.connections().makeAsyncIterator()
        let right = try TCPConnection(adopting: try #require(try await accepted.next()), on: loop)
        defer { right.close() }
        let inbound = HTTPInbound(initialCapacity: 1024, maximumCapacity: 4096)
        #expect(inbound.capacity == 1024)
        try await left.write(Array(repeating: 0x61, count: 6000))
        var total = 0
        while total < 4096 { total += try await inbound.fill(from: right, deadline: EventLoop.now() + 5_000_000_000) }
        #expect(inbound.count == 4096 && inbound.capacity == 4096 && inbound.isFull)
        inbound.consume(4096)
        inbound.shrink()
        #expect(inbound.capacity == 1024 && inbound.count == 0)
    }

    @Test func configKeys() throws {
        #expect(throws: (any Error).self) {
            try RelayConfig.parse("{ listeners: [ { name: \"t\", listen: \"127.0.0.1:0\", backend: \"w\", routes: [ { path_prefix: \"/a\", backend: \"w\" } ] } ], backends: { w: { servers: [\"127.0.0.1:1\"] } } }")
        }
        #expect(throws: (any Error).self) {
            try RelayConfig.parse("{ listeners: [ { name: \"h\", protocol: \"http\", listen: \"127.0.0.1:0\", routes: [ { sni: [\"a.b\"], backend: \"w\" } ] } ], backends: { w: { servers: [\"127.0.0.1:1\"] } } }")
        }
        let config = try RelayConfig.parse("{ listeners: [ { name: \"h\", protocol: \"http\", listen: \"127.0.0.1:0\", http: { header_timeout: \"2s\", upstream_keepalive: 4 }, routes: [ { host: [\"*.svc\"], methods: [\"GET\"], headers: { \"x-model\": \"m@1\" }, backend: \"w\" } ] } ], backends: { w: { servers: [\"127.0.0.1:1\"] } } }")
        #expect(config.listeners[0].http.headerTimeout == .seconds(2) && config.listeners[0].http.upstreamKeepalive == 4)
        #expect(config.listeners[0].routes[0].hosts == ["*.svc"])
    }
}
