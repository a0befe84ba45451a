import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// The calls every kind of socket shares: options, the local address, and `close` with its own rule.
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

    /// Closes an fd that `crelay_socket`, `crelay_accept` or `crelay_pipe` opened, giving it back to the
    /// descriptor budget; ignores EINTR (on Linux the fd is released even then; retrying could close a reused fd).
    static func close(_ fd: Int32) {
        _ = crelay_close(fd)
    }
}
