/// An http listener's `http` object: the gateway's limits and timeouts.
public struct HTTPListenerConfig: Sendable, Equatable {
    /// Time for a client to send a whole request head (`header_timeout`, default 10s): a slow sender (slowloris)
    /// is answered 408 and closed.
    public var headerTimeout: Duration = .seconds(10)
    /// Time a kept-alive client connection may sit between requests (`keepalive_timeout`, default 60s).
    public var keepaliveTimeout: Duration = .seconds(60)
    /// Time for a server to send the head of its response once the request is sent (`response_timeout`, default
    /// 60s): later is 504.
    public var responseTimeout: Duration = .seconds(60)
    /// The largest request head (`max_header_bytes`, default 16KiB): larger is 431. The request line alone may
    /// be at most half of it (414).
    public var maxHeaderBytes = 16 * 1024
    /// The most header fields in a request (`max_header_count`, default 100): more is 431.
    public var maxHeaderCount = 100
    /// Idle kept-alive connections held per server and event loop for the next requests (`upstream_keepalive`,
    /// default 32; 0 closes each after its response).
    public var upstreamKeepalive = 32
    /// How long an idle server connection is kept (`upstream_idle_timeout`, default 60s).
    public var upstreamIdleTimeout: Duration = .seconds(60)
    /// The largest request body (`max_body_bytes`, default 0 = no limit): a larger `Content-Length` is answered
    /// 413 before any of the body is read; a chunked body is cut off with 413 once it passes the limit.
    public var maxBodyBytes = 0
    /// Tries of another server for an idempotent request whose server refused it before answering anything
    /// (`retries`, default 1).
    public var retries = 1

    public init() {}

    static func read(from fields: ConfigObjectReader) -> HTTPListenerConfig {
        var config = HTTPListenerConfig()
        fields.read("http", into: &config) { node in
            node.object { http in
                var config = HTTPListenerConfig()
                http.read("header_timeout", into: &config.headerTimeout) { $0.duration(allowZero: false) }
                http.read("keepalive_timeout", into: &config.keepaliveTimeout) { $0.duration(allowZero: false) }
                http.read("response_timeout", into: &config.responseTimeout) { $0.duration(allowZero: false) }
                http.read("max_header_bytes", into: &config.maxHeaderBytes) { $0.byteSize(in: 1024...1_048_576) }
                http.read("max_header_count", into: &config.maxHeaderCount) { $0.integer(in: 1...10_000) }
                http.read("upstream_keepalive", into: &config.upstreamKeepalive) { $0.integer(in: 0...100_000) }
                http.read("upstream_idle_timeout", into: &config.upstreamIdleTimeout) { $0.duration(allowZero: false) }
                http.read("retries", into: &config.retries) { $0.integer(in: 0...10) }
                http.read("max_body_bytes", into: &config.maxBodyBytes) { $0.byteSize(in: 0...(1 << 40)) }
                return http.isValid ? config : nil
            }
        }
        return config
    }
}
