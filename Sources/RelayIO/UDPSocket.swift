import CRelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A non-blocking UDP socket registered in one event loop: bound (a listener) or connected (one peer).
///
/// A connected socket reports ICMP port-unreachable from its peer as `ECONNREFUSED` on the next
/// receive or send, which is how probes and flows learn that a UDP backend is gone.
public final class UDPSocket: Sendable {
    /// The descriptor. Closed by `close()` (or deinit), never elsewhere.
    public let fd: Int32
    /// The readiness slots in `loop`.
    public let registration: IORegistration
    private let closed = Atomic<Bool>(false)

    public var loop: EventLoop { registration.loop }

    private init(fd: Int32, loop: EventLoop) throws(IOError) {
        do {
            self.registration = try loop.register(fd: fd)
        } catch {
            SocketOptions.close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit {
        close()
    }

    /// A socket bound to `address` (port 0: the system picks), receiving from anyone.
    public static func bind(_ address: SocketAddress, on loop: EventLoop, reusePort: Bool = false) throws(IOError)
        -> UDPSocket
    {
        let fd = try syscall("socket") { crelay_socket(address.family, Int32(SOCK_DGRAM.rawValue), 0) }
        do throws(IOError) {
            try SocketOptions.setInt(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            if reusePort { try SocketOptions.setInt(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
            let bound = address.withSockAddr { pointer, length in Glibc.bind(fd, pointer, length) }
            if bound != 0 { throw IOError.syscall(call: "bind \(address)", errno: Glibc.errno) }
        } catch {
            SocketOptions.close(fd)
            throw error
        }
        return try UDPSocket(fd: fd, loop: loop)
    }

    /// A socket connected to `peer`: it sends there by default and receives only from there.
    public static func connect(to peer: SocketAddress, on loop: EventLoop) throws(IOError) -> UDPSocket {
        let fd = try syscall("socket") { crelay_socket(peer.family, Int32(SOCK_DGRAM.rawValue), 0) }
        let connected = peer.withSockAddr { pointer, length in Glibc.connect(fd, pointer, length) }
        if connected != 0 {
            let code = Glibc.errno
            SocketOptions.close(fd)
            throw IOError.syscall(call: "connect \(peer)", errno: code)
        }
        return try UDPSocket(fd: fd, loop: loop)
    }

    /// The local address.
    public func localAddress() throws(IOError) -> SocketAddress {
        try SocketOptions.localAddress(fd)
    }

    /// Sends one datagram to the connected peer, waiting for buffer space if needed.
    public func send(_ bytes: UnsafeRawBufferPointer, deadline: UInt64? = nil) async throws {
        while true {
            switch try syscallNonBlocking("send", { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }) {
            case .processed: return
            case .wouldBlock: try await registration.wait(for: .write, deadline: deadline)
            }
        }
    }

    /// Sends `bytes` as one datagram to the connected peer (a convenience for probes and tests).
    public func send(_ bytes: [UInt8], deadline: UInt64? = nil) async throws {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, bytes.count), alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try await send(UnsafeRawBufferPointer(rebasing: copy[0..<bytes.count]), deadline: deadline)
    }

    /// Sends one datagram to `peer` (on a bound socket).
    public func send(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress, deadline: UInt64? = nil) async throws {
        while true {
            let result = try syscallNonBlocking("sendto") {
                peer.withSockAddr { pointer, length in
                    Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
                }
            }
            switch result {
            case .processed: return
            case .wouldBlock: try await registration.wait(for: .write, deadline: deadline)
            }
        }
    }

    /// Receives one datagram into `buffer`, waiting until one arrives or `deadline` passes. Returns the
    /// byte count, the sender, and whether the datagram was longer than `buffer` (and so truncated).
    public func receive(into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64? = nil) async throws
        -> (count: Int, from: SocketAddress, truncated: Bool)
    {
        while true {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(IOError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(IOError) in
                    // MSG_TRUNC makes the kernel return the real length of a datagram larger than the buffer.
                    try syscallNonBlocking("recvfrom") {
                        Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), raw, &length)
                    }
                }
            }
            switch result {
            case let .processed(count):
                let sender = SocketAddress(storage: storage, length: length)
                return (min(count, buffer.count), sender, count > buffer.count)
            case .wouldBlock:
                try await registration.wait(for: .read, deadline: deadline)
            }
        }
    }

    /// Sends one datagram to the connected peer without waiting. `ECONNREFUSED` means the peer answered an
    /// earlier datagram with ICMP port unreachable.
    public func sendNow(_ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends one datagram to `peer` without waiting.
    public func sendNow(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("sendto") {
            peer.withSockAddr { pointer, length in
                Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
            }
        }
    }

    /// Receives one datagram from the connected peer without waiting; the count is the datagram's real
    /// length (more than `buffer.count` when it was truncated). `ECONNREFUSED`: ICMP port unreachable.
    public func receiveNow(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("recv") { Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC)) }
    }

    /// Wakes every waiter with `IOError.closed`; safe from any thread.
    public func abort() {
        registration.abort()
    }

    /// Closes the socket (idempotent). Call only when no task is using it.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        registration.deregister()
        SocketOptions.close(fd)
    }
}
