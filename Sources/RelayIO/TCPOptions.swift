/// Options applied to TCP sockets relayd creates or accepts.
public struct TCPOptions: Sendable, Equatable {
    /// Disable Nagle: a relay must not add latency to small writes.
    public var noDelay: Bool = true
    /// Kernel keepalive probes, so a peer that vanished without a FIN is eventually noticed.
    public var keepalive: Bool = true
    /// Seconds of idleness before the first keepalive probe (0: the system's default).
    public var keepaliveIdleSeconds: Int32 = 60
    /// Seconds between keepalive probes (0: the system's default).
    public var keepaliveIntervalSeconds: Int32 = 10
    /// Unanswered probes before the kernel drops the connection (0: the system's default).
    public var keepaliveCount: Int32 = 6

    public init(noDelay: Bool = true, keepalive: Bool = true, keepaliveIdleSeconds: Int32 = 60,
                keepaliveIntervalSeconds: Int32 = 10, keepaliveCount: Int32 = 6) {
        self.noDelay = noDelay
        self.keepalive = keepalive
        self.keepaliveIdleSeconds = keepaliveIdleSeconds
        self.keepaliveIntervalSeconds = keepaliveIntervalSeconds
        self.keepaliveCount = keepaliveCount
    }

    /// Options for connections relayd opens to backends: each option is a syscall per connection, so
    /// keepalive keeps the system's timings (like HAProxy's `option srvtcpka`). Accepted connections
    /// inherit the listener's options for free, so those keep relayd's shorter timings.
    public static let backend = TCPOptions(noDelay: true, keepalive: true, keepaliveIdleSeconds: 0,
                                           keepaliveIntervalSeconds: 0, keepaliveCount: 0)
}
