import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

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

enum SocketOptions {
    static func setInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(IOError) {
        var value = value
        try syscall("setsockopt(\(label))") {
            setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    static func getInt(_ fd: Int32, _ level: Int32, _ name: Int32, _ label: String) throws(IOError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        try syscall("getsockopt(\(label))") { getsockopt(fd, level, name, &value, &length) }
        return value
    }

    static func apply(_ options: TCPOptions, to fd: Int32) throws(IOError) {
        if options.noDelay {
            try setInt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1, "TCP_NODELAY")
        }
        if options.keepalive {
            try syscall("setsockopt(SO_KEEPALIVE)") {
                crelay_set_tcp_keepalive(fd, options.keepaliveIdleSeconds, options.keepaliveIntervalSeconds,
                                         options.keepaliveCount)
            }
        }
    }

    /// The address a socket is bound to.
    static func localAddress(_ fd: Int32) throws(IOError) -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer throws(IOError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(IOError) in
                try syscall("getsockname") { getsockname(fd, raw, &length) }
            }
        }
        return SocketAddress(storage: storage, length: length)
    }

    /// Closes an fd, ignoring EINTR (on Linux the fd is released even then; retrying could close a reused fd).
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
