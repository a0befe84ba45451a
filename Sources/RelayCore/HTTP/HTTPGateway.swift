import RelayIO
import RelayProtocol
import Synchronization

/// An http listener's gateway: its routes and their groups, its limits, the idle server connections it reuses,
/// and what it counts. Shared by every connection of the listener; a reload builds a new one (connections keep
/// the one they started with), and the old one closes its idle server connections when the last user lets go.
public final class HTTPGateway: Sendable {
    /// A route at run time; a class, so the frames of a request's async functions hold one reference to it.
    final class Route: Sendable {
        let config: RouteConfig
        let group: BackendGroup
        let requests = Counter()
        let limiter: RouteRateLimiter?
        /// The names of `add_headers`, lower case: the client's fields of these names are replaced.
        let addedNames: [[UInt8]]

        init(config: RouteConfig, group: BackendGroup) {
            self.config = config
            self.group = group
            addedNames = config.addHeaders.map { Array($0.name.lowercased().utf8) }
            limiter = config.rateLimit.isEnabled ? RouteRateLimiter(config.rateLimit) : nil
        }
    }

    /// Why relayd refused a request before forwarding it, with the answer's status and headers.
    struct Refusal {
        let status: Int
        let reason: String
        let message: String
        var headers: [(String, String)] = []
    }

    let listener: String
    let routes: [Route]
    /// The listener's `backend`: requests no route matches (404 when nil).
    let fallback: BackendGroup?
    let fallbackRequests = Counter()
    let settings: HTTPListenerConfig
    let cache: UpstreamCache
    let requestParser: HTTPRequestParser
    let responseParser: HTTPResponseParser
    let logger: Logger
    let accessLog: AccessLog?
    let counters: HTTPGatewayCounters
    /// Retries may add at most a fifth of the requests (plus a few to start with), so an outage is not multiplied.
    /// Retry tokens in thousandths: every request adds `retryBudgetShare`, a retry takes one whole token. An atomic,
    /// not a lock: every request of every loop touches it.
    private let retryTokens = Atomic<Int>(HTTPGateway.retryBudgetStart)
    private let requestIDs = SplitMix64()

    static let retryBudgetStart = 3_000
    static let retryBudgetShare = 200
    static let retryBudgetCap = 100_000
    static let retryCost = 1_000
    /// The most a client connection's buffer grows to (more when `max_header_bytes` needs it), and a server
    /// connection's: a whole head must fit; 64 KiB reads keep bulk bodies cheap.
    static let bufferSize = 64 * 1024
    /// Above the response parser's 64 KiB head limit, so an oversized head is its error, not the buffer's.
    static let serverBufferSize = 68 * 1024

    init(listener: String, routes: [(RouteConfig, BackendGroup)], fallback: BackendGroup?, settings: HTTPListenerConfig,
         accessLog: AccessLog?, logger: Logger) {
        self.listener = listener
        self.routes = routes.map { Route(config: $0.0, group: $0.1) }
        counters = HTTPGatewayCounters(routes: routes.map(\.0.name) + [ListenerRoutes.fallbackName])
        self.fallback = fallback
        self.settings = settings
        self.accessLog = accessLog
        self.logger = logger
        cache = UpstreamCache(perServer: settings.upstreamKeepalive, idleTimeout: settings.upstreamIdleTimeout)
        let limits = HTTPLimits(maxRequestLineBytes: settings.maxHeaderBytes / 2, maxHeaderBytes: settings.maxHeaderBytes,
                                maxHeaderCount: settings.maxHeaderCount,
                                maxBodyBytes: settings.maxBodyBytes > 0 ? settings.maxBodyBytes : 1 << 40,
                                maxChunkedFramingBytes: 1 << 40)
        requestParser = HTTPRequestParser(limits: limits)
        responseParser = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 64 * 1024, maxHeaderCount: 500,
                                                                maxBodyBytes: 1 << 40))
    }

    deinit { cache.closeAll() }

    /// The route for `request` from `client`: its name, group and config (nil config for the fallback); nil when
    /// nothing matches and the listener has no backend.
    func route(_ request: HTTPProxyRequest, client: SocketAddress) -> (name: String, group: BackendGroup, route: Route?)? {
        let host = request.host
        for route in routes where Self.matches(route.config, request: request, host: host, client: client) {
            route.requests.increment()
            return (route.config.name, route.group, route)
        }
        guard let fallback else { return nil }
        fallbackRequests.increment()
        return (ListenerRoutes.fallbackName, fallback, nil)
    }

    /// The route's access control, in order: `deny` and `allow` (403), the API key (401), the rate limits (429).
    /// Nil when the request may go, with the name of the key it presented (for the log and the per-key limit).
    func admit(_ request: HTTPProxyRequest, client: SocketAddress, route: Route, keyName: inout String?) -> Refusal? {
        let config = route.config
        if config.deny.contains(client) || (!config.allow.isEmpty && !config.allow.contains(client)) {
            return Refusal(status: 403, reason: "forbidden", message: "client \(client.ip) may not use route \(config.name)")
        }
        if let keys = config.apiKeys {
            let presented = Self.presentedKey(request)
            guard let presented, let name = keys.name(of: presented.utf8) else {
                return Refusal(status: 401, reason: presented == nil ? "no_api_key" : "bad_api_key",
                               message: presented == nil ? "route \(config.name) needs an API key"
                                                         : "the API key is not valid for route \(config.name)",
                               headers: [("WWW-Authenticate", "Bearer realm=\"relayd\"")])
            }
            keyName = name
        }
        if let limiter = route.limiter,
           let (scope, wait) = limiter.admit(key: keyName, ip: client.ipKey, now: EventLoop.now()) {
            let seconds = max(1, (wait.nanosecondsClamped + 999_999_999) / 1_000_000_000)
            return Refusal(status: 429, reason: "rate_limited",
                           message: "route \(config.name) is over its \(scope) rate limit",
                           headers: [("Retry-After", String(seconds))])
        }
        return nil
    }

    /// The key of `Authorization: Bearer KEY` or `X-API-Key: KEY`.
    static func presentedKey(_ headers: HTTPProxyRequest) -> String? {
        if let authorization = headers.value(of: "Authorization") {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return String(parts[1].drop { $0 == " " })
            }
        }
        return headers.value(of: "X-API-Key")
    }

    static func matches(_ route: RouteConfig, request: HTTPProxyRequest, host: String?, client: SocketAddress) -> Bool {
        if !route.hosts.isEmpty {
            guard let host, route.matches(host: host) else { return false }
        }
        if let prefix = route.pathPrefix, !request.path.hasPrefix(prefix) { return false }
        if !route.methods.isEmpty, !route.methods.contains(request.method) { return false }
        if !route.headers.isEmpty {
            let headers = request.headers
            for (name, value) in route.headers where !headers.values(for: name).contains(value) { return false }
        }
        if !route.source.isEmpty, !route.source.contains(client) { return false }
        return true
    }

    /// Whether a retry fits the budget; takes its token when it does.
    func takeRetry() -> Bool {
        var tokens = retryTokens.load(ordering: .relaxed)
        while tokens >= Self.retryCost {
            let (taken, seen) = retryTokens.compareExchange(expected: tokens, desired: tokens - Self.retryCost,
                                                            ordering: .relaxed)
            if taken { return true }
            tokens = seen
        }
        return false
    }

    /// Every request adds a fifth of a retry to the budget (up to 100 saved).
    func requestStarted() {
        counters.requests.increment()
        var tokens = retryTokens.load(ordering: .relaxed)
        while tokens < Self.retryBudgetCap {
            let (added, seen) = retryTokens.compareExchange(
                expected: tokens, desired: min(Self.retryBudgetCap, tokens + Self.retryBudgetShare), ordering: .relaxed)
            if added { return }
            tokens = seen
        }
    }

    /// A new request id from a random sequence (written as 16 hex digits).
    func newRequestID() -> UInt64 {
        requestIDs.next()
    }

    /// Serves one client connection: requests one after the other until either side closes.
    func serve(_ client: TCPConnection, peer: SocketAddress, on loop: EventLoop,
               activity: ConnectionActivity?) async -> (bytesIn: Int, bytesOut: Int) {
        let exchange = HTTPExchange(gateway: self, client: client, peer: peer, loop: loop, activity: activity)
        await exchange.run()
        return (exchange.bytesIn, exchange.bytesOut)
    }
}

/// What an http listener counted: requests by route and by server with their status classes, response times,
/// requests in flight, retries, upgrades, and the requests relayd answered itself by reason.
public final class HTTPGatewayCounters: Sendable {
    /// One route's (or server's) requests by status class (index 1 = 1xx … 5 = 5xx; 0: no status, the client
    /// left) and their durations.
    public final class Classes: Sendable {
        public let byClass = (0..<6).map { _ in Counter() }
        public let duration = Histogram(buckets: Histogram.durationBuckets)

        func record(_ status: Int, duration: Duration) {
            byClass[min(5, max(0, status / 100))].increment()
            self.duration.observe(duration)
        }
    }

    public let requests = Counter()
    public let inFlight = Atomic<Int>(0)
    public let retries = Counter()
    public let upgrades = Counter()
    /// By route name, fixed when the gateway is built.
    public let routes: [String: Classes]
    /// By server, added as servers answer, with their `backend/address` labels.
    private let servers = SanitizerVisibleMutex<[ObjectIdentifier: (label: String, classes: Classes)]>([:])
    /// Requests answered by relayd itself, by reason.
    private let rejected = SanitizerVisibleMutex<[String: UInt64]>([:])

    init(routes: [String]) {
        self.routes = Dictionary(routes.map { ($0, Classes()) }, uniquingKeysWith: { first, _ in first })
    }

    /// `server`'s counters, made at its first answer.
    func classes(of server: ServerHandle) -> Classes {
        servers.withLock { table in
            if let existing = table[ObjectIdentifier(server)] { return existing.classes }
            let created = Classes()
            table[ObjectIdentifier(server)] = ("\(server.group)/\(server.address)", created)
            return created
        }
    }

    /// Counts a request of `route` answered by the server whose counters are `server` (see `classes(of:)`).
    func record(route: String?, server: Classes?, status: Int, duration: Duration) {
        if let route { routes[route]?.record(status, duration: duration) }
        server?.record(status, duration: duration)
    }

    func reject(_ reason: String) {
        rejected.withLock { $0[reason, default: 0] += 1 }
    }

    /// The servers' counters, by `backend/server`.
    public var serverClasses: [(String, Classes)] { servers.withLock { $0.values.sorted { $0.label < $1.label } } }

    /// The refusals by reason.
    public var rejections: [(String, UInt64)] { rejected.withLock { $0.sorted { $0.key < $1.key } } }
}
