import RelayIO
import RelayProtocol

/// A TCP listener's `routes` at run time: each rule with its backend group and counter, and the listener's own
/// group for connections no rule matches. First match wins.
public final class ListenerRoutes: Sendable {
    struct Route: Sendable {
        let config: RouteConfig
        let group: BackendGroup
        /// Connections this route sent to its group.
        let connections = Counter()
    }

    let routes: [Route]
    /// The listener's `backend`: connections no route matches.
    let fallback: BackendGroup
    let fallbackConnections = Counter()
    /// Whether any route matches on the ClientHello (`sni`, `alpn`), so it must be read first.
    let readsHello: Bool
    /// The name the fallback goes by in metrics and the access log.
    static let fallbackName = "default"
    /// How long a client has to send its ClientHello when the listener has no `first_byte_timeout`.
    static let helloTimeout = Duration.seconds(5)

    init(routes: [(RouteConfig, BackendGroup)], fallback: BackendGroup) {
        self.routes = routes.map { Route(config: $0.0, group: $0.1) }
        self.fallback = fallback
        readsHello = routes.contains { $0.0.readsHello }
    }

    /// The route for a connection from `client` whose ClientHello (if read, and if it was TLS) is `hello`, and its
    /// group; counted.
    func pick(client: SocketAddress, hello: TLSClientHello?) -> (name: String, group: BackendGroup) {
        for route in routes where Self.matches(route.config, client: client, hello: hello) {
            route.connections.increment()
            return (route.config.name, route.group)
        }
        fallbackConnections.increment()
        return (Self.fallbackName, fallback)
    }

    static func matches(_ route: RouteConfig, client: SocketAddress, hello: TLSClientHello?) -> Bool {
        if !route.sni.isEmpty {
            guard let name = hello?.serverName, route.matches(serverName: name) else { return false }
        }
        if !route.alpn.isEmpty {
            guard let offered = hello?.alpn, offered.contains(where: { route.alpn.contains($0) }) else { return false }
        }
        if !route.source.isEmpty, !route.source.contains(client) { return false }
        return true
    }

    /// Every route's name, group and count, the fallback last, for the metrics.
    var counts: [(name: String, backend: String, connections: UInt64)] {
        routes.map { ($0.config.name, $0.group.name, $0.connections.value) }
            + [(Self.fallbackName, fallback.name, fallbackConnections.value)]
    }
}

/// Peeks at a client's first bytes for a TLS ClientHello, leaving them in the socket: the relay passes them on
/// untouched. Anything that is not a whole, valid hello in time gives nil (the fallback route).
enum TLSHelloReader {
    static let limit = 16 * 1024 + 5

    @inline(never)
    static func read(from client: TCPConnection, deadline: UInt64, pool: BufferPool) async -> TLSClientHello? {
        enum Decision {
            case hello(TLSClientHello)
            case other
        }
        let result = await PeekedPrefix.read(from: client, limit: limit, deadline: deadline, pool: pool) {
            bytes, _ -> Decision? in
            switch TLSClientHello.parse(bytes, maximumLength: limit) {
            case let .hello(hello): .hello(hello)
            case .needMore: nil
            case .notTLS, .invalid: .other
            }
        }
        if case let .success(.hello(hello)) = result { return hello }
        return nil
    }
}
