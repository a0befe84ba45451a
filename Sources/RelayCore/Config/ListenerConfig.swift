/// A listener: an address relayd accepts connections on and what it does with them. One element of the
/// `listeners` array.
public struct ListenerConfig: Sendable, Equatable {
    /// Names the listener in logs and errors (`name`, required, unique, letters, digits, `_`, `.` and `-`).
    public var name: String
    /// What the listener does with a connection (`protocol`, default `tcp`).
    public var proto: ListenerProtocol
    /// The address to bind (`listen`, required), such as `127.0.0.1:8080` or `[::]:80`; port 0 lets the OS pick
    /// one, which tests use to avoid clashes.
    public var listen: Endpoint
    /// The backend group a `tcp` listener relays to (`backend`, required for `tcp`, absent for `echo`).
    public var backend: String?
    /// Connections open at once through this listener (`max_connections`, default 10000, at least 1), so a flood
    /// of clients cannot exhaust file descriptors or memory.
    public var maxConnections: Int
    /// Connections open at once from one client IP address (`max_connections_per_ip`, default 0 = no limit), so
    /// one client cannot take every slot of `maxConnections`.
    public var maxConnectionsPerIP: Int
    /// Whether the listener's connections set `TCP_NODELAY` (`tcp_nodelay`, default true): small writes go out at
    /// once instead of waiting to be merged, which matters for request/response traffic.
    public var tcpNoDelay: Bool
    /// Whether the listener's connections set `SO_KEEPALIVE` (`keepalive`, default true), so a peer that vanished
    /// without closing is eventually noticed and its connection freed.
    public var keepalive: Bool
    /// Length of the kernel's queue of connections not yet accepted (`backlog`, default 1024, 1 to 65535); the
    /// kernel also caps it at `net.core.somaxconn`.
    public var backlog: Int
    /// A UDP flow with no datagram either way for this long is closed (`idle_timeout`, default 30s, more than
    /// zero), which bounds the sockets kept for clients that went away. A TCP connection with no byte either way
    /// for this long is closed on both sides (default 10m, like nginx stream's `proxy_timeout`; 0 = never), so
    /// half-open clients, dead NAT entries and slowloris clients do not hold a slot forever.
    public var idleTimeout: Duration
    /// TCP: a client that sends nothing for this long after connecting is closed (`first_byte_timeout`, default
    /// 0 = never), like HAProxy's `timeout client` before the first request. Not for protocols where the server
    /// speaks first.
    public var firstByteTimeout: Duration
    /// UDP: flows open at once (`max_flows`, default 100000, at least 1); a datagram that would open one more is
    /// dropped and counted, and existing flows are not touched.
    public var maxFlows: Int
    /// UDP: close a flow after this many replies (`responses`, default 0 = never), like nginx's
    /// `proxy_responses`: 1 suits DNS-style request/response traffic, freeing the flow at once.
    public var responses: Int
    /// Token buckets on new connections, flows and reliable-UDP handshakes, per client IP and in total, and on a
    /// UDP or reliable-UDP listener's datagrams per client IP (`rate_limit`, default none). Applied in place by a
    /// reload.
    public var rateLimit: RateLimitConfig
    /// TCP: whether connections start with a PROXY protocol header, and from which peers one is believed
    /// (`accept_proxy`: `true`, `false` or "optional", default false; `proxy_trusted`, default loopback).
    public var acceptProxy: ProxyAcceptConfig = .off
    /// TCP: rules that send matching connections (by TLS server name, ALPN, client address) to other backend
    /// groups than `backend`, which takes the rest (`routes`, default none). First match wins.
    public var routes: [RouteConfig] = []
    /// An http listener's `http` settings (limits and timeouts of the gateway).
    public var http = HTTPListenerConfig()
    /// Reliable UDP: the keys file, `max_sessions`, `encryption` and `max_packet_size`; nil for other protocols.
    public var reliable: ReliableListenerConfig?
    /// Multipath client or server: links, keys and the LinkMonitor's knobs; nil for other protocols.
    public var multipath: MultipathListenerConfig?

    public init(name: String, proto: ListenerProtocol = .tcp, listen: Endpoint, backend: String? = nil,
                maxConnections: Int = 10_000, maxConnectionsPerIP: Int = 0, tcpNoDelay: Bool = true,
                keepalive: Bool = true, backlog: Int = 1024, idleTimeout: Duration? = nil,
                firstByteTimeout: Duration = .zero, maxFlows: Int = 100_000, responses: Int = 0,
                rateLimit: RateLimitConfig = .none, reliable: ReliableListenerConfig? = nil) {
        self.name = name
        self.proto = proto
        self.listen = listen
        self.backend = backend
        self.maxConnections = maxConnections
        self.maxConnectionsPerIP = maxConnectionsPerIP
        self.tcpNoDelay = tcpNoDelay
        self.keepalive = keepalive
        self.backlog = backlog
        self.idleTimeout = idleTimeout ?? Self.defaultIdleTimeout(proto)
        self.firstByteTimeout = firstByteTimeout
        self.maxFlows = maxFlows
        self.responses = responses
        self.rateLimit = rateLimit
        self.reliable = reliable
    }

    /// `idle_timeout` when the config does not say: 30s for a UDP flow or a reliable-UDP session, 10m for a TCP
    /// connection.
    static func defaultIdleTimeout(_ proto: ListenerProtocol) -> Duration {
        proto.relaysUDP || proto.isMultipath ? .seconds(30) : .seconds(600)
    }

    /// The longest `idle_timeout` of a reliable-UDP session: WELCOME carries it in milliseconds in 32 bits.
    static let maxReliableIdleTimeout = Duration.milliseconds(Int64(UInt32.max))

    /// The timeouts a TCP listener's connections get.
    public var connectionTimeouts: ConnectionTimeouts {
        ConnectionTimeouts(idle: idleTimeout, firstByte: firstByteTimeout)
    }

    /// Reads one element of `listeners`, returning the listener (with placeholders for keys that failed) and the
    /// keys that failed; nil if the element is not an object. Checks that involve other listeners or the backend
    /// groups are done by `RelayConfig`, which sees them all. A `keys_file` is read from `baseDirectory` when its
    /// path is relative.
    static func read(from node: ConfigReader, baseDirectory: String = ".")
        -> (config: ListenerConfig, failedKeys: Set<String>)?
    {
        node.object { fields in
            let name = fields.required("name", "a name for logs, such as \"web\"") { $0.name() }
            let listen = fields.required("listen", "the address to accept connections on, such as \"127.0.0.1:8080\"") {
                $0.endpoint()
            }
            let placeholder = Endpoint(host: "0.0.0.0", port: 0, isIPv6: false)
            var config = ListenerConfig(name: name ?? "", listen: listen ?? placeholder)
            fields.read("protocol", into: &config.proto) { $0.choice(ListenerProtocol.self) }
            fields.read("backend", into: &config.backend) { $0.name() }
            fields.read("max_connections", into: &config.maxConnections) { $0.integer(in: 1...Int.max) }
            fields.read("max_connections_per_ip", into: &config.maxConnectionsPerIP) { $0.integer(in: 0...Int.max) }
            fields.read("tcp_nodelay", into: &config.tcpNoDelay) { $0.bool() }
            fields.read("keepalive", into: &config.keepalive) { $0.bool() }
            fields.read("backlog", into: &config.backlog) { $0.integer(in: 1...65535) }
            config.idleTimeout = defaultIdleTimeout(config.proto)
            // A UDP flow must expire (its socket is only freed then); a TCP connection may be left alone.
            fields.read("idle_timeout", into: &config.idleTimeout) { value in
                guard let duration = value.duration(allowZero: config.proto.isTCP) else { return nil }
                if config.proto == .reliableUDP,
                    duration < .milliseconds(1) || duration > maxReliableIdleTimeout {
                    return value.expected("a duration from 1ms to 49d17h2m47s295ms (WELCOME carries it in "
                                          + "milliseconds in 32 bits)")
                }
                return duration
            }
            if !config.proto.isTCP, fields.optional("first_byte_timeout") != nil {
                fields.reject("first_byte_timeout", "only TCP listeners take `first_byte_timeout`; a UDP flow has "
                              + "`idle_timeout` only")
            } else {
                fields.read("first_byte_timeout", into: &config.firstByteTimeout) { $0.duration(allowZero: true) }
            }
            if config.proto == .tcp {
                var mode = ProxyAcceptConfig.Mode.off
                fields.read("accept_proxy", into: &mode) { $0.proxyAcceptMode() }
                var trusted = ProxyAcceptConfig.loopback
                fields.read("proxy_trusted", into: &trusted) { $0.addressBlocks() }
                config.acceptProxy = ProxyAcceptConfig(mode: mode, trusted: trusted)
            } else if !fields.failedKeys.contains("protocol") {
                for key in ["accept_proxy", "proxy_trusted"] where fields.optional(key) != nil {
                    fields.reject(key, "only tcp listeners take `\(key)` (the PROXY protocol header a proxy in front "
                                  + "sends first on a TCP connection)")
                }
            }
            if config.proto == .http {
                config.http = HTTPListenerConfig.read(from: fields)
            }
            if config.proto == .tcp || config.proto == .udp || config.proto == .http {
                let udp = config.proto == .udp
                let http = config.proto == .http
                fields.read("routes", into: &config.routes) { value in
                    guard let elements = value.elements() else { return nil }
                    let routes = elements.enumerated().map { index, element -> RouteConfig? in
                        guard let route = RouteConfig.read(from: element, index: index, baseDirectory: baseDirectory) else { return nil }
                        guard !udp || !route.readsHello else {
                            let key = route.sni.isEmpty ? "alpn" : "sni"
                            let _: Void? = element.expected("a route by `source`: a udp listener has no TLS handshake to "
                                                            + "read `\(key)` from")
                            return nil
                        }
                        guard http || !route.isHTTPOnly else {
                            let _: Void? = element.expected("a route by `sni`, `alpn` or `source`: `host`, `path_prefix`, "
                                                            + "`headers`, `methods`, `strip_prefix`, `add_headers`, `allow`, "
                                                            + "`deny`, `api_keys_file` and `rate_limit` are for http listeners")
                            return nil
                        }
                        guard !http || !route.readsHello else {
                            let _: Void? = element.expected("a route by `host`, `path_prefix`, `headers`, `methods` or "
                                                            + "`source`: an http listener reads no TLS handshake")
                            return nil
                        }
                        return route
                    }
                    return routes.contains { $0 == nil } ? nil : routes.compactMap { $0 }
                }
            } else if !fields.failedKeys.contains("protocol"), fields.optional("routes") != nil {
                fields.reject("routes", "only tcp, udp and http listeners take `routes`")
            }
            // Other protocols do not ask for their own keys, so there they are unknown keys like any other.
            if config.proto == .reliableUDP {
                for key in ["max_flows", "responses"] where fields.optional(key) != nil {
                    fields.reject(key, "only udp listeners take `\(key)`; a reliable-udp listener limits its sessions "
                                  + "with `max_sessions` and `idle_timeout`")
                }
                config.reliable = ReliableListenerConfig.read(from: fields, baseDirectory: baseDirectory)
            } else {
                fields.read("max_flows", into: &config.maxFlows) { $0.integer(in: 1...10_000_000) }
                fields.read("responses", into: &config.responses) { $0.integer(in: 0...1_000_000) }
            }
            if config.proto.isMultipath {
                // Not applied by the multipath listeners yet: refused rather than silently ignored.
                for key in ["rate_limit", "responses"] where fields.optional(key) != nil {
                    fields.reject(key, "a \(config.proto.rawValue) listener does not take `\(key)` yet")
                }
                config.multipath = MultipathListenerConfig.read(from: fields, server: config.proto == .multipathServer,
                                                                baseDirectory: baseDirectory)
            }
            // With `protocol` unreadable, whether the listener has datagrams is unknown: `packets_per_ip` passes.
            let datagrams = config.proto.relaysUDP || fields.failedKeys.contains("protocol")
            if !config.proto.isMultipath {
                fields.read("rate_limit", into: &config.rateLimit) { RateLimitConfig.read(from: $0, datagrams: datagrams) }
            }
            return (config, fields.failedKeys)
        }
    }
}
