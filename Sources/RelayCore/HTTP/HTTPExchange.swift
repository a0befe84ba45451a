import RelayIO
import RelayProtocol

/// One client connection of an http listener: reads each request head, routes it, forwards it to a server of its
/// group on a kept-alive connection, streams the bodies both ways, and goes on with the next request while both
/// sides keep the connection open. An upgrade (`101`, WebSocket) turns the connection into a byte relay.
final class HTTPExchange {
    let gateway: HTTPGateway
    let client: TCPConnection
    let peer: SocketAddress
    let loop: EventLoop
    /// Bytes read from the client and not yet forwarded.
    let inbound: HTTPInbound
    /// Bytes read from the server of the request in progress; kept for the next request (it is empty between
    /// requests: a server connection with bytes left over is not reused).
    private lazy var fromServer = HTTPInbound(initialCapacity: 16 * 1024, maximumCapacity: HTTPGateway.serverBufferSize)
    private(set) var bytesIn = 0
    private(set) var bytesOut = 0
    /// The client as the forwarded fields name it, made at its first request.
    private lazy var forwarding = HTTPRewrite.Client(peer)
    /// The counters of the server that answered last: the next request usually goes to it again, and finding a
    /// server's counters takes the listener's lock.
    private var lastServerCounters: (server: ServerHandle, classes: HTTPGatewayCounters.Classes)?

    /// The listener's view of the connection (its `idle_timeout` and `first_byte_timeout`): bytes either way
    /// count as activity.
    let activity: ConnectionActivity?

    init(gateway: HTTPGateway, client: TCPConnection, peer: SocketAddress, loop: EventLoop, activity: ConnectionActivity?) {
        self.gateway = gateway
        self.client = client
        self.peer = peer
        self.loop = loop
        self.activity = activity
        inbound = HTTPInbound(maximumCapacity: max(HTTPGateway.bufferSize, gateway.settings.maxHeaderBytes + 4096))
    }

    /// 413 once a chunked body is past `max_body_bytes` (its framing counts, with room for it); a body with a
    /// length was refused before it started.
    private func checkBodyLimit(_ body: HTTPBodyTracker) throws(HTTPParseError) {
        let limit = gateway.settings.maxBodyBytes
        guard limit > 0, body.bytes > limit + limit / 8 + 64 else { return }
        throw HTTPParseError(status: 413, reason: "the body is larger than \(limit) bytes")
    }

    /// Reads from the client into `inbound`, counted as activity.
    nonisolated(nonsending) private func readClient(deadline: UInt64?, expectingNothingYet: Bool = false) async throws -> Int {
        let read = try await inbound.fill(from: client, deadline: deadline, expectingNothingYet: expectingNothingYet)
        if read > 0 { activity?.moved(.upstream) }
        return read
    }

    /// Writes to the client, counted as activity.
    nonisolated(nonsending) private func sendToClient(_ bytes: [UInt8], deadline: UInt64?) async throws {
        try await client.write(bytes, deadline: deadline)
        activity?.moved(.downstream)
    }

    nonisolated(nonsending) private func sendToClient(_ bytes: UnsafeRawBufferPointer, deadline: UInt64?) async throws {
        try await client.write(bytes, deadline: deadline)
        activity?.moved(.downstream)
    }

    /// What one request came to, for the access log and for whether the connection goes on.
    struct Result {
        var status = 0
        /// The server that answered (or was tried last).
        var server: ServerHandle?
        var route: String?
        var bytesIn = 0
        var bytesOut = 0
        var firstByte: Duration?
        var reason: String?
        var keepClient = false
        var attempts = 0
        /// The name of the API key the request presented.
        var keyName: String?
    }

    enum HeadRead {
        case request(HTTPProxyRequest)
        case closed
        case refused(HTTPParseError)
    }

    nonisolated(nonsending) func run() async {
        var first = true
        while true {
            let read = await readHead(first: first)
            first = false
            let start = EventLoop.now()
            switch read {
            case .closed:
                return
            case let .refused(error):
                var result = Result()
                await answer(error.status, error.reason, keepAlive: false, head: nil, into: &result, reason: "bad_request")
                log(nil, result, start: start)
                return
            case let .request(head):
                gateway.requestStarted()
                gateway.counters.inFlight.add(1, ordering: .relaxed)
                var result = await handle(head)
                gateway.counters.inFlight.subtract(1, ordering: .relaxed)
                result.bytesIn += head.headLength
                bytesIn += head.headLength
                log(head, result, start: start)
                guard result.keepClient else { return }
                // Between requests, a quiet connection keeps small buffers.
                inbound.shrink()
                fromServer.shrink()
            }
        }
    }

    // MARK: - Client side

    /// Reads the next request head: waits up to `keepalive_timeout` for its first byte (between requests), then
    /// `header_timeout` for the rest.
    nonisolated(nonsending) private func readHead(first: Bool) async -> HeadRead {
        let settings = gateway.settings
        var deadline: UInt64?
        func headDeadline() -> UInt64 { EventLoop.now() + UInt64(settings.headerTimeout.nanosecondsClamped) }
        if inbound.count > 0 || first { deadline = headDeadline() }
        while true {
            if inbound.count > 0 {
                do {
                    if let head = try gateway.requestParser.parseProxyHead(inbound.bytes) { return .request(head) }
                } catch {
                    return .refused(error)
                }
                if inbound.isFull {
                    return .refused(HTTPParseError(status: 431, reason: "the head is larger than the buffer"))
                }
            }
            let wait = deadline ?? EventLoop.now() + UInt64(settings.keepaliveTimeout.nanosecondsClamped)
            do {
                let read = try await readClient(deadline: wait,
                                                  expectingNothingYet: !first && inbound.count == 0 && deadline == nil)
                if read == 0 { return .closed }
                if deadline == nil { deadline = headDeadline() }
            } catch IOError.timedOut {
                if inbound.count == 0 && !first { return .closed }
                return .refused(HTTPParseError(status: 408, reason: "the request head did not arrive within "
                                               + "\(settings.headerTimeout)"))
            } catch {
                return .closed
            }
        }
    }

    /// Routes and forwards one request, retrying on another server where that is safe.
    nonisolated(nonsending) private func handle(_ head: HTTPProxyRequest) async -> Result {
        var result = Result()
        inbound.consume(head.headLength)
        guard let (routeName, group, matched) = gateway.route(head, client: peer) else {
            await answer(404, "no route for this request", keepAlive: head.body == .none && head.keepAlive, head: head,
                         into: &result, reason: "no_route")
            return result
        }
        result.route = routeName
        if let matched, let refusal = gateway.admit(head, client: peer, route: matched, keyName: &result.keyName) {
            await answer(refusal.status, refusal.message, keepAlive: head.body == .none && head.keepAlive, head: head,
                         into: &result, reason: refusal.reason, headers: refusal.headers)
            return result
        }
        var excluded: [ServerHandle] = []
        while true {
            result.attempts += 1
            guard let server = group.pick(client: peer.ipKey, excluding: excluded) else {
                let message = excluded.isEmpty ? "no healthy server for route \(routeName)"
                                               : "no server of route \(routeName) answered"
                await answer(excluded.isEmpty ? 503 : 502, message, keepAlive: head.body == .none && head.keepAlive,
                             head: head, into: &result, reason: excluded.isEmpty ? "no_server" : "upstream_failed")
                return result
            }
            server.inFlight.add(1, ordering: .relaxed)
            defer { server.inFlight.subtract(1, ordering: .relaxed) }
            result.server = server
            var upstream: TCPConnection
            var reused = false
            if let idle = gateway.cache.take(server, on: loop) {
                upstream = idle
                reused = true
            } else if let warm = group.pool?.pool(for: server)?.take(on: loop) {
                // The group's connection pool (`pool`) dialed it ahead: no connect on the request's path.
                upstream = warm
                reused = true
                server.connectionsTotal.add(1, ordering: .relaxed)
            } else {
                let started = EventLoop.now()
                do {
                    upstream = try await TCPConnection.connect(to: server.address, on: loop, timeout: group.connectTimeout,
                                                               options: group.options)
                    group.report(server, .connected(.nanoseconds(Int64(clamping: EventLoop.now() &- started))))
                    server.connectionsTotal.add(1, ordering: .relaxed)
                } catch {
                    group.report(server, .connectFailed("\(error)"))
                    server.connectFailures.add(1, ordering: .relaxed)
                    excluded.append(server)
                    gateway.logger.debug("server connect failed", ["server": server.address, "error": "\(error)"])
                    // Nothing was sent: any method may go to another server, within the budget.
                    if result.attempts <= gateway.settings.retries, gateway.takeRetry() {
                        gateway.counters.retries.increment()
                        continue
                    }
                    await answer(502, "could not connect to \(server.address) for route \(routeName)",
                                 keepAlive: head.body == .none && head.keepAlive, head: head, into: &result,
                                 reason: "upstream_connect")
                    return result
                }
            }
            let outcome = await forward(head, route: matched, to: upstream, server: server, group: group, into: &result)
            switch outcome {
            case .done:
                return result
            case .staleConnection where reused:
                // A kept-alive connection the server had closed: try a fresh one to the same server, once.
                upstream.close()
                result.attempts -= 1
                excluded.removeAll { $0 === server }
                continue
            case .staleConnection, .retry:
                upstream.close()
                excluded.append(server)
                if head.isIdempotent, head.body == .none, result.attempts <= gateway.settings.retries,
                   gateway.takeRetry() {
                    gateway.counters.retries.increment()
                    continue
                }
                await answer(502, "the server \(server.address) closed the connection without answering",
                             keepAlive: head.keepAlive && head.body == .none, head: head, into: &result,
                             reason: "upstream_closed")
                return result
            }
        }
    }

    enum ForwardOutcome {
        /// The exchange is over (answered, relayed, or failed with an answer sent).
        case done
        /// The server closed before any byte of a response, with nothing of the body sent: retryable.
        case staleConnection
        /// The server answered 502 or 503 to a request that may go elsewhere; nothing went to the client.
        case retry
    }

    /// Sends the request on `upstream`, relays the response back, and keeps or closes the server connection.
    @inline(never)
    nonisolated(nonsending) private func forward(_ head: HTTPProxyRequest, route: HTTPGateway.Route?, to upstream: TCPConnection,
                         server: ServerHandle, group: BackendGroup, into result: inout Result) async -> ForwardOutcome {
        let settings = gateway.settings
        func deadline() -> UInt64 { EventLoop.now() + UInt64(settings.responseTimeout.nanosecondsClamped) }
        var body = HTTPBodyTracker(head.body)
        // The body bytes already read go in the same write as the head (not before a 100 Continue).
        var bodyWithHead = 0
        if !head.expectsContinue, !body.isComplete, inbound.count > 0 {
            do throws(HTTPParseError) {
                bodyWithHead = try body.take(inbound.bytes)
                try checkBodyLimit(body)
            } catch {
                await answer(error.status, error.reason, keepAlive: false, head: nil, into: &result,
                             reason: error.status == 413 ? "body_too_large" : "bad_body")
                upstream.close()
                return .done
            }
        }
        var requestBytes = HTTPRewrite.request(head, route: route, client: forwarding, server: server.address,
                                               requestID: head.hasRequestID ? nil : gateway.newRequestID(),
                                               closeUpstream: settings.upstreamKeepalive == 0,
                                               extraCapacity: bodyWithHead)
        if bodyWithHead > 0 { requestBytes.append(contentsOf: inbound.bytes[0..<bodyWithHead]) }
        do {
            try await upstream.write(requestBytes, deadline: deadline())
        } catch {
            return .staleConnection
        }
        inbound.consume(bodyWithHead)
        bytesIn += bodyWithHead
        result.bytesIn += bodyWithHead
        let sent = EventLoop.now()
        let fromServer = self.fromServer
        fromServer.consume(fromServer.count)
        var response: HTTPProxyResponse?
        // Expect: 100-continue: the server's answer comes before the body is sent.
        if head.expectsContinue, !body.isComplete {
            switch await readResponse(head, from: upstream, into: fromServer, relayInterim: false, result: &result,
                                      sentAt: sent) {
            case let .response(answer) where answer.status == 100:
                fromServer.consume(answer.headLength)
                let interim = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
                do { try await sendToClient(interim, deadline: deadline()) } catch {
                    upstream.close()
                    return .done
                }
                bytesOut += interim.count
                result.bytesOut += interim.count
            case let .response(answer):
                response = answer
            case let .failed(outcome):
                upstream.close()
                if result.reason == "upstream_timeout" { group.report(server, .answered(success: false, firstByte: nil)) }
                if outcome == nil { return .done }
                return .staleConnection
            }
        }
        if response == nil, !body.isComplete {
            guard await streamRequestBody(&body, to: upstream, into: &result) else {
                upstream.close()
                return .done
            }
        }
        if response == nil {
            switch await readResponse(head, from: upstream, into: fromServer, relayInterim: true, result: &result,
                                      sentAt: sent) {
            case let .response(answer): response = answer
            case let .failed(outcome):
                upstream.close()
                if result.reason == "upstream_timeout" { group.report(server, .answered(success: false, firstByte: nil)) }
                if outcome == nil { return .done }
                if head.body == .none { return .staleConnection }
                // The body went: the request is not sent again.
                await answer(502, "the server \(server.address) closed the connection without answering",
                             keepAlive: false, head: head, into: &result, reason: "upstream_closed")
                return .done
            }
        }
        guard let response else { return .done }
        group.report(server, .answered(success: response.status < 500, firstByte: result.firstByte))
        if (response.status == 502 || response.status == 503), head.isIdempotent, head.body == .none,
           result.attempts <= settings.retries {
            upstream.close()
            return .retry
        }
        fromServer.consume(response.headLength)
        result.status = response.status
        if response.status == 101, head.isUpgrade {
            await upgrade(response, upstream: upstream, fromServer: fromServer, into: &result)
            return .done
        }
        var responseBody = HTTPBodyTracker(response.body)
        let keepClient = head.keepAlive && body.isComplete && !responseBody.endsAtClose
        // The body bytes that came with the head go in the same write (and the same allocation).
        var answerWithHead = 0
        if fromServer.count > 0 {
            guard let taken = try? responseBody.take(fromServer.bytes) else {
                upstream.close()
                return .done
            }
            answerWithHead = taken
        }
        var responseBytes = HTTPRewrite.response(response, keepAlive: keepClient, clientVersion: head.version,
                                                 extraCapacity: answerWithHead)
        if answerWithHead > 0 { responseBytes.append(contentsOf: fromServer.bytes[0..<answerWithHead]) }
        do {
            try await sendToClient(responseBytes, deadline: deadline())
        } catch {
            upstream.close()
            return .done
        }
        fromServer.consume(answerWithHead)
        bytesOut += responseBytes.count
        result.bytesOut += responseBytes.count
        let complete = await streamResponseBody(&responseBody, from: upstream, buffered: fromServer, into: &result)
        if complete, response.keepAlive, body.isComplete, fromServer.count == 0, settings.upstreamKeepalive > 0 {
            gateway.cache.put(upstream, server: server, on: loop)
        } else {
            upstream.close()
        }
        result.keepClient = keepClient && complete
        return .done
    }

    enum ResponseRead {
        case response(HTTPProxyResponse)
        /// nil: answered already (504, 502 for a malformed head) or the client is gone; non-nil: the server
        /// closed before a byte of a response.
        case failed(ForwardOutcome?)
    }

    /// Reads the server's response head, relaying interim (1xx but 101) heads to the client when `relayInterim`.
    @inline(never)
    nonisolated(nonsending) private func readResponse(_ head: HTTPProxyRequest, from upstream: TCPConnection, into buffer: HTTPInbound,
                              relayInterim: Bool, result: inout Result, sentAt: UInt64) async -> ResponseRead {
        let deadline = EventLoop.now() + UInt64(gateway.settings.responseTimeout.nanosecondsClamped)
        var sawBytes = false
        while true {
            if buffer.count > 0 {
                do {
                    if let response = try gateway.responseParser.parseProxyHead(buffer.bytes, requestMethod: head.method) {
                        if result.firstByte == nil {
                            result.firstByte = .nanoseconds(Int64(clamping: EventLoop.now() &- sentAt))
                        }
                        guard response.isInterim, relayInterim else { return .response(response) }
                        // 1xx other than 101: passed on to an HTTP/1.1 client, then the real answer follows.
                        if head.version == .http1_1 {
                            let bytes = Array(buffer.bytes[0..<response.headLength])
                            try? await sendToClient(bytes, deadline: deadline)
                            bytesOut += bytes.count
                        }
                        buffer.consume(response.headLength)
                        continue
                    }
                } catch {
                    await answer(502, "the server sent a malformed response: \(error.reason)", keepAlive: false,
                                 head: head, into: &result, reason: "upstream_malformed")
                    return .failed(nil)
                }
                if buffer.isFull {
                    await answer(502, "the server's response head is too large", keepAlive: false, head: head,
                                 into: &result, reason: "upstream_malformed")
                    return .failed(nil)
                }
            }
            do {
                let read = try await buffer.fill(from: upstream, deadline: deadline, expectingNothingYet: !sawBytes)
                if read == 0 {
                    if !sawBytes { return .failed(.staleConnection) }
                    await answer(502, "the server closed the connection in the middle of its response head",
                                 keepAlive: false, head: head, into: &result, reason: "upstream_closed")
                    return .failed(nil)
                }
                sawBytes = true
            } catch IOError.timedOut {
                await answer(504, "the server did not answer within \(gateway.settings.responseTimeout)",
                             keepAlive: false, head: head, into: &result, reason: "upstream_timeout")
                return .failed(nil)
            } catch {
                if !sawBytes { return .failed(.staleConnection) }
                await answer(502, "the server reset the connection", keepAlive: false, head: head, into: &result,
                             reason: "upstream_reset")
                return .failed(nil)
            }
        }
    }

    /// Streams the request body from the client to the server as it arrives; false when either side failed (the
    /// exchange is over and the connection must close).
    @inline(never)
    nonisolated(nonsending) private func streamRequestBody(_ body: inout HTTPBodyTracker, to upstream: TCPConnection,
                                   into result: inout Result) async -> Bool {
        let timeout = UInt64(gateway.settings.responseTimeout.nanosecondsClamped)
        while !body.isComplete {
            if inbound.count == 0 {
                do {
                    guard try await readClient(deadline: EventLoop.now() + timeout) > 0 else { return false }
                } catch {
                    return false
                }
            }
            let taken: Int
            do throws(HTTPParseError) {
                taken = try body.take(inbound.bytes)
                try checkBodyLimit(body)
            } catch {
                await answer(error.status, error.reason, keepAlive: false, head: nil, into: &result,
                             reason: error.status == 413 ? "body_too_large" : "bad_body")
                return false
            }
            do {
                try await upstream.write(UnsafeRawBufferPointer(rebasing: inbound.bytes[0..<taken]),
                                         deadline: EventLoop.now() + timeout)
            } catch {
                await answer(502, "the server stopped taking the request body", keepAlive: false, head: nil,
                             into: &result, reason: "upstream_reset")
                return false
            }
            inbound.consume(taken)
            bytesIn += taken
            result.bytesIn += taken
        }
        return true
    }

    /// Streams the response body from the server to the client; true when it ended where its framing says.
    @inline(never)
    nonisolated(nonsending) private func streamResponseBody(_ body: inout HTTPBodyTracker, from upstream: TCPConnection,
                                    buffered: HTTPInbound, into result: inout Result) async -> Bool {
        let timeout = UInt64(gateway.settings.responseTimeout.nanosecondsClamped)
        while !body.isComplete {
            if buffered.count == 0 {
                do {
                    guard try await buffered.fill(from: upstream, deadline: EventLoop.now() + timeout) > 0 else {
                        return body.endsAtClose
                    }
                } catch {
                    return false
                }
            }
            guard let taken = try? body.take(buffered.bytes) else { return false }
            do {
                try await sendToClient(UnsafeRawBufferPointer(rebasing: buffered.bytes[0..<taken]),
                                       deadline: EventLoop.now() + timeout)
            } catch {
                return false
            }
            buffered.consume(taken)
            bytesOut += taken
            result.bytesOut += taken
        }
        return true
    }

    /// After a `101 Switching Protocols`: the head goes to the client, then bytes flow both ways untouched until
    /// either side closes (WebSocket and any other upgrade).
    @inline(never)
    nonisolated(nonsending) private func upgrade(_ response: HTTPProxyResponse, upstream: TCPConnection, fromServer: HTTPInbound,
                         into result: inout Result) async {
        gateway.counters.upgrades.increment()
        let head = HTTPRewrite.response(response, keepAlive: true, clientVersion: .http1_1)
        let deadline = EventLoop.now() + UInt64(gateway.settings.responseTimeout.nanosecondsClamped)
        do {
            try await sendToClient(head, deadline: deadline)
            if fromServer.count > 0 { try await sendToClient(fromServer.bytes, deadline: deadline) }
            if inbound.count > 0 { try await upstream.write(inbound.bytes, deadline: deadline) }
        } catch {
            upstream.close()
            return
        }
        bytesOut += head.count + fromServer.count
        bytesIn += inbound.count
        fromServer.consume(fromServer.count)
        inbound.consume(inbound.count)
        let bridge = TCPBridge(client: client, backend: upstream, pool: loop.buffers, bytesUp: nil, bytesDown: nil,
                               activity: activity, clientRead: true, onFirstResponse: nil)
        let outcome = await bridge.run()
        upstream.close()
        bytesIn += outcome.bytesUp
        bytesOut += outcome.bytesDown
        result.bytesIn += outcome.bytesUp
        result.bytesOut += head.count + outcome.bytesDown
        result.keepClient = false
    }

    /// Answers the client from relayd itself: a small JSON body with the reason.
    @inline(never)
    nonisolated(nonsending) private func answer(_ status: Int, _ message: String, keepAlive: Bool, head: HTTPProxyRequest?,
                        into result: inout Result, reason: String, headers: [(String, String)] = []) async {
        result.status = status
        result.reason = reason
        result.keepClient = keepAlive
        gateway.counters.reject(reason)
        var extra = headers
        if status == 503 { extra.append(("Retry-After", "1")) }
        let bytes = HTTPResponse.error(status, message).encode(keepAlive: keepAlive, extraHeaders: extra,
                                                              omitBody: head?.method == "HEAD")
        let deadline = EventLoop.now() + UInt64(gateway.settings.responseTimeout.nanosecondsClamped)
        try? await sendToClient(bytes, deadline: deadline)
        bytesOut += bytes.count
        result.bytesOut += bytes.count
    }

    /// `12.345`: milliseconds with three decimals.
    static func milliseconds(_ duration: Duration) -> String {
        let micros = (duration.nanosecondsClamped + 500) / 1000
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    private func log(_ head: HTTPProxyRequest?, _ result: Result, start: UInt64) {
        let duration = Duration.nanoseconds(Int64(clamping: EventLoop.now() &- start))
        var serverCounters: HTTPGatewayCounters.Classes?
        if let server = result.server {
            if let last = lastServerCounters, last.server === server {
                serverCounters = last.classes
            } else {
                let classes = gateway.counters.classes(of: server)
                lastServerCounters = (server, classes)
                serverCounters = classes
            }
        }
        gateway.counters.record(route: result.route, server: serverCounters, status: result.status,
                                duration: duration)
        if let accessLog = gateway.accessLog {
            var entry = AccessLogEntry(listener: gateway.listener, proto: "http", client: peer, server: result.server?.address,
                                       bytesIn: result.bytesIn, bytesOut: result.bytesOut, duration: duration,
                                       end: result.reason ?? "ok")
            entry.route = result.route
            entry.extra = [("method", head?.method ?? "-"), ("path", head.map { String($0.path) } ?? "-"),
                           ("host", head?.value(of: "Host") ?? "-"), ("status", String(result.status)),
                           ("upstream_ms", result.firstByte.map { Self.milliseconds($0) } ?? "-"),
                           ("api_key", result.keyName ?? "-")]
            accessLog.record(entry)
        }
    }
}
