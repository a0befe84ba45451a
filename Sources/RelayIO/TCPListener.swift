import CRelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A non-blocking listening TCP socket registered in one event loop.
///
/// With `reusePort`, several listeners (one per loop) bind the same address and the kernel spreads
/// new connections over them, so accepting scales with loops and a connection's task stays on the
/// loop that accepted it.
public final class TCPListener: Sendable {
    /// The listening descriptor.
    public let fd: Int32
    /// The address actually bound (with the OS-chosen port when asked for port 0).
    public let localAddress: SocketAddress
    /// The readiness slots in `loop`.
    public let registration: IORegistration
    private let closed = Atomic<Bool>(false)

    public var loop: EventLoop { registration.loop }

    /// Binds and listens on `address`, with `SO_REUSEADDR` and, when asked, `SO_REUSEPORT`.
    public init(bindingTo address: SocketAddress, on loop: EventLoop, backlog: Int32 = 1024,
                reusePort: Bool = true, options: TCPOptions = TCPOptions()) throws(IOError) {
        let fd = try syscall("socket") { crelay_socket(address.family, Int32(SOCK_STREAM.rawValue), 0) }
        do throws(IOError) {
            try SocketOptions.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            if reusePort { try SocketOptions.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
            // Accepted sockets inherit these on Linux, which saves syscalls per connection.
            try SocketOptions.apply(options, to: fd)
            let bound = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, length) }
            if bound != 0 { throw IOError.syscall(call: "bind \(address)", errno: Glibc.errno) }
            try syscall("listen") { Glibc.listen(fd, backlog) }
            self.localAddress = try SocketOptions.localAddress(fd)
            self.registration = try loop.register(fd: fd)
            self.fd = fd
        } catch {
            SocketOptions.close(fd)
            throw error
        }
    }

    /// Fails with `EADDRINUSE` if some socket already listens on `address`.
    ///
    /// `SO_REUSEPORT` lets every process of the same user bind a port that is already bound with it, so a
    /// second relayd (or an HAProxy) on the same address would silently share its traffic. A plain bind
    /// (without `SO_REUSEPORT`) refuses such a port, so binding one first turns that mistake into an error.
    public static func checkNotInUse(_ address: SocketAddress) throws(IOError) {
        guard address.port != 0 else { return }
        let fd = try syscall("socket") { crelay_socket(address.family, Int32(SOCK_STREAM.rawValue), 0) }
        defer { SocketOptions.close(fd) }
        try SocketOptions.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
        let bound = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, length) }
        if bound != 0 { throw IOError.syscall(call: "bind \(address)", errno: Glibc.errno) }
    }

    /// Accepts one pending connection without waiting.
    public func acceptNow() throws(IOError) -> IOResult<AcceptedSocket> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(IOError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(IOError) in
                try syscallNonBlocking("accept4") { crelay_accept(fd, raw, &length) }
            }
        }
        switch result {
        case .wouldBlock:
            return .wouldBlock
        case let .processed(client):
            return .processed(AcceptedSocket(fd: client, peer: SocketAddress(storage: storage, length: length)))
        }
    }

    /// Waits for and accepts the next connection. Throws `IOError.closed` once `stop()` was called, and
    /// `IOError.syscall` for failures, including `EMFILE` (see `connections(backoff:)` for a loop that
    /// backs off on those instead).
    public func accept() async throws -> AcceptedSocket {
        while true {
            if registration.isAborted { throw IOError.closed }
            switch try acceptNow() {
            case let .processed(socket): return socket
            case .wouldBlock: try await registration.wait(for: .read)
            }
        }
    }

    /// Accepted connections as an `AsyncSequence` that ends when `stop()` is called.
    ///
    /// When the process or system is out of descriptors (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`) the
    /// sequence does not spin and does not fail: it sleeps with exponential back-off (from
    /// `backoff.initial` to `backoff.maximum`) and retries, reporting each episode to `onShortage`.
    /// The pending connection stays in the kernel's backlog meanwhile.
    public func connections(backoff: AcceptBackoff = AcceptBackoff(),
                            onShortage: @escaping @Sendable (IOError, Duration) -> Void = { _, _ in })
        -> AcceptSequence
    {
        AcceptSequence(listener: self, backoff: backoff, onShortage: onShortage)
    }

    /// Stops accepting: wakes a waiting `accept` with `IOError.closed`. Safe from any thread; the fd is
    /// closed by `close()`, which the accepting task calls when it is done.
    public func stop() {
        registration.abort()
    }

    /// Closes the listening socket (idempotent). Pending connections in its backlog are reset.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        registration.deregister()
        SocketOptions.close(fd)
    }

    deinit {
        close()
    }
}
