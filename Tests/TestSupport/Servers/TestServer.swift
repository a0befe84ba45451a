import RelayIO

/// A server a test runs in-process (a backend): `stop()` ends it and returns once its tasks are done.
public protocol TestServer: Sendable {
    /// Stops serving, ends every open connection or flow, and waits until nothing of the server runs.
    func stop() async
}

/// The servers a test started; `withTestServers` stops every one of them when its body ends.
public final class TestServers: Sendable {
    private let started = SanitizerVisibleMutex<[any TestServer]>([])

    init() {}

    /// Takes `server` into the scope (to be stopped with it) and returns it.
    @discardableResult
    public func add<Server: TestServer>(_ server: Server) -> Server {
        started.withLock { $0.append(server) }
        return server
    }

    /// Stops the servers, last added first.
    func stopAll() async {
        let servers = started.withLock { servers in
            defer { servers.removeAll() }
            return servers
        }
        for server in servers.reversed() { await server.stop() }
    }
}

/// Runs `body` with a scope for test servers and stops every server added to it when `body` returns or
/// throws: the asynchronous `defer` a test needs, so no backend outlives its test.
///
///     try await withTestServers { servers in
///         let tcp = servers.add(try TestBackend.echo())
///         let udp = servers.add(try UDPEchoBackend())
///         try await withRelay(config(tcp.address, udp.address)) { relay in ... }
///     }
public func withTestServers<T>(_ body: (TestServers) async throws -> T) async throws -> T {
    let servers = TestServers()
    do {
        let value = try await body(servers)
        await servers.stopAll()
        return value
    } catch {
        await servers.stopAll()
        throw error
    }
}

/// Runs `body` with the server `make` starts, and stops that server when `body` returns or throws.
public func withTestServer<Server: TestServer, T>(_ make: @autoclosure () throws -> Server,
                                                  _ body: (Server) async throws -> T) async throws -> T {
    try await withTestServers { servers in
        try await body(servers.add(try make()))
    }
}
