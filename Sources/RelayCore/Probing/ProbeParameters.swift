/// How servers are probed (`probe` in a backend group).
public struct ProbeParameters: Sendable, Equatable {
    /// What a probe does.
    public enum Kind: Sendable, Equatable {
        /// Open a TCP connection; the latency is the connect time.
        case tcp
        /// `GET path` over HTTP/1.1; healthy when the status is in `expectStatus`; the latency is the time
        /// to the first byte of the response.
        case http(path: String, expectStatus: ClosedRange<Int>)
        /// Send `payload` in a datagram; healthy on any reply; the latency is the round trip.
        case udp(payload: [UInt8])
    }

    /// What a probe does. Tcp here; a config without `probe.kind` gets the protocol of the listeners that use
    /// the group (see `ProbeKindDefault`).
    public var kind: Kind = .tcp
    /// Time between two probing rounds.
    public var interval: Duration = .seconds(15)
    /// How long one probe may take.
    public var timeout: Duration = .seconds(1)
    /// Servers probed per round, the least recently probed first.
    public var candidates: Int = 10
    /// Probe every server once at start, before the first selection.
    public var initialEnabled: Bool = true
    /// Probes in flight at once during the initial round.
    public var initialConcurrency: Int = 100
    /// Timeout of the initial probes.
    public var initialTimeout: Duration = .milliseconds(500)
    /// Consecutive successes that bring a down server back up.
    public var rise: Int = 2
    /// Consecutive failures that mark a server down (and evict it from the active set at once).
    public var fall: Int = 3
    /// `send_proxy: true`: TCP and HTTP probes start with a PROXY header saying "a check of relayd's own" (version
    /// 1 `UNKNOWN`, version 2 `LOCAL`) in the group's `send_proxy` version, for servers that require one; nil
    /// sends none (the default, as HAProxy's checks).
    public var proxyHeader: ProxySendVersion = .off

    public init() {}
}
