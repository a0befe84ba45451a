import RelayIO
import RelayProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for the admin API and the Prometheus endpoint, run by the supervisor.
///
/// One listening socket on one event loop; each connection is a task that reads into a buffer, hands it to
/// `HTTPRequestParser`, awaits the handler and writes the encoded response, with keep-alive and pipelining.
/// Everything is bounded: at most `maxConnections` connections (more are refused at accept), a request must
/// arrive within `requestTimeout` (slow or silent clients are dropped, with 408 if they sent part of one), an
/// idle keep-alive connection is closed after `idleTimeout`, and the parser bounds every length. A request the
/// parser refuses gets its 4xx/5xx answer and the connection is closed.
public final class HTTPServerService: Service {
    /// Answers one request; `peer` is the client's address.
    public typealias Handler = @Sendable (_ request: HTTPRequest, _ peer: SocketAddress) async -> HTTPResponse

    public let name: String
    /// The address actually bound.
    public let address: SocketAddress
    let loop: EventLoop
    let handler: Handler
    let parser: HTTPRequestParser
    let tracker: ConnectionTracker
    let requestTimeout: Duration
    let idleTimeout: Duration
    /// Requests served on one connection before it is closed, so no client holds one forever.
    let maxRequestsPerConnection = 1000
    let logger: Logger
    private let prebound: SanitizerVisibleMutex<TCPListener?>

    public init(name: String, address: SocketAddress, loop: EventLoop, maxConnections: Int = 64,
                requestTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
                limits: HTTPLimits = HTTPLimits(), sharingAddress: Bool = false, logger: Logger,
                handler: @escaping Handler) throws {
        self.name = name
        self.loop = loop
        self.handler = handler
        self.parser = HTTPRequestParser(limits: limits)
        self.tracker = ConnectionTracker(maxConnections: maxConnections, maxPerIP: 0)
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger.module("admin").with(["service": name])
        let socket = try Self.bind(name: name, address: address, loop: loop, sharing: sharingAddress)
        self.address = socket.localAddress
        self.prebound = SanitizerVisibleMutex(socket)
    }

    static func bind(name: String, address: SocketAddress, loop: EventLoop, sharing: Bool) throws -> TCPListener {
        do {
            if !sharing { try TCPListener.checkNotInUse(address) }
            return try TCPListener(bindingTo: address, on: loop, backlog: 128, reusePort: true)
        } catch {
            var hint = ""
            if error.errno == EADDRINUSE { hint = "; another process (or listener) uses this address: change `\(name).listen`" }
            if error.errno == EACCES { hint = "; ports below 1024 need privileges" }
            if error.errno == EADDRNOTAVAIL { hint = "; this machine has no such address" }
            throw ListenerError(listener: name, address: address.description, reason: "\(error)\(hint)")
        }
    }

    /// Closes the socket bound by `init` when the service will never run.
    func discard() {
        prebound.withLock { socket in
            socket?.close()
            socket = nil
        }
    }

    public func run(_ context: ServiceContext) async throws {
        let socket = try prebound.withLock { socket -> TCPListener in
            defer { socket = nil }
            return try socket ?? Self.bind(name: name, address: address, loop: loop, sharing: false)
        }
        defer { socket.close() }
        let stop = context.shutdown.onTrigger { socket.stop() }
        defer { stop.cancel() }
        logger.info("listening", ["address": address, "attempt": context.attempt])
        for try await accepted in socket.connections() {
            guard case let .success(ticket) = tracker.admit(accepted.peer) else {
                accepted.refuse()
                logger.debug("connection refused: too many open", ["client": accepted.peer])
                continue
            }
            let task = Task(executorPreference: loop) { [self] in
                await self.serve(accepted)
                self.tracker.finish(ticket)
            }
            tracker.attach(task, to: ticket)
        }
        guard context.shutdown.isTriggered else {
            throw ListenerError(listener: name, address: address.description, reason: "accept loop ended unexpectedly")
        }
        socket.close()
        // Requests in progress get a moment to finish; idle keep-alive connections are not worth waiting for.
        if !(await tracker.waitUntilIdle(timeout: min(context.drainTimeout, .seconds(1)))) {
            tracker.cancelAll()
            _ = await tracker.waitUntilIdle(timeout: .seconds(1))
        }
    }

    private func serve(_ accepted: AcceptedSocket) async {
        let connection: TCPConnection
        do {
            connection = try TCPConnection(adopting: accepted, on: loop)
        } catch {
            return
        }
        defer { connection.close() }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
        defer { chunk.deallocate() }
        var buffer: [UInt8] = []
        var served = 0
        while served < maxRequestsPerConnection {
            // Parse what is buffered first: a pipelined request may already be complete.
            switch parser.parse(buffer) {
            case .needMore:
                let timeout = buffer.isEmpty && served > 0 ? idleTimeout : requestTimeout
                let count: Int
                do {
                    count = try await connection.read(into: chunk, deadline: EventLoop.now() + timeout.nanosecondsClamped)
                } catch IOError.timedOut {
                    if !buffer.isEmpty {
                        await send(.error(408, "the request did not arrive within \(DurationParser.format(requestTimeout))"),
                                   on: connection, keepAlive: false)
                    }
                    return
                } catch {
                    return
                }
                if count == 0 { return }
                buffer.append(contentsOf: chunk[0..<count])
            case let .invalid(error):
                logger.debug("bad request", ["client": accepted.peer, "status": error.status, "reason": error.reason])
                await send(.error(error), on: connection, keepAlive: false)
                return
            case let .request(request, consumed):
                buffer.removeFirst(consumed)
                served += 1
                let response = await handler(request, accepted.peer)
                let keepAlive = request.keepAlive && served < maxRequestsPerConnection
                await send(response, on: connection, keepAlive: keepAlive, head: request.method == "HEAD")
                if !keepAlive { return }
            }
        }
    }

    private func send(_ response: HTTPResponse, on connection: TCPConnection, keepAlive: Bool, head: Bool = false) async {
        let bytes = response.encode(keepAlive: keepAlive, extraHeaders: [
            ("Date", WallClock.date().imfFixdate),
            ("Server", "relayd"),
            ("Cache-Control", "no-store"),
        ], omitBody: head)
        try? await connection.write(bytes)
        if !keepAlive { connection.shutdownWrite() }
    }
}
