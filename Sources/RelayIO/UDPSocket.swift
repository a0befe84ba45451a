import CRelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A non-blocking UDP socket registered in one event loop: bound (a listener) or connected (one peer).
///
/// A connected socket reports ICMP port-unreachable from its peer as `ECONNREFUSED` on the next
/// receive or send, which is how probes and flows learn that a UDP backend is gone.
///
/// Once `close()` has been called every operation throws `IOError.closed` without a system call: the
/// descriptor's number may already name another socket, and a late task (a flow's reply task outliving
/// its listener, say) must not send on that one.
public final class UDPSocket: Sendable {
    /// The descriptor number, for logs and tests. Closed by `close()` (or deinit), never elsewhere; I/O
    /// goes through the methods, which refuse to touch it once the socket is closed.
    public let fd: Int32
    /// The readiness slots in `loop`.
    public let registration: IORegistration
    /// Bit 0: `close()` was called. The rest, in steps of 2: system calls on `fd` in progress. A call
    /// starts only while bit 0 is clear, and the descriptor is closed by whoever leaves the count at zero
    /// with bit 0 set: `close()` itself when no call was in progress, else the last call to finish. So a
    /// `close()` racing a send on another thread never lets that send reach a reused descriptor number.
    private let usage = Atomic<UInt>(0)
    /// Sends tried on this socket, refused ones (after `close()`) included: one per `sendNow` and per
    /// attempt of a waiting `send`. Lets tests prove that nothing sends on a socket once its owner is done
    /// with it; a relaxed add beside a system call that costs a thousand times more.
    public let sendsTried = Atomic<Int>(0)

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
        try withDescriptor { fd throws(IOError) in try SocketOptions.localAddress(fd) }
    }

    /// Sends one datagram to the connected peer, waiting for buffer space if needed.
    public func send(_ bytes: UnsafeRawBufferPointer, deadline: UInt64? = nil) async throws {
        while true {
            switch try sendNow(bytes) {
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
            switch try sendNow(bytes, to: peer) {
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
            let result = try withDescriptor { fd throws(IOError) in
                try withUnsafeMutablePointer(to: &storage) { pointer throws(IOError) in
                    try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(IOError) in
                        // MSG_TRUNC makes the kernel return the real length of a datagram larger than the buffer.
                        try syscallNonBlocking("recvfrom") {
                            Glibc.recvfrom(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC), raw, &length)
                        }
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
        sendsTried.add(1, ordering: .relaxed)
        return try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Sends one datagram to `peer` without waiting.
    public func sendNow(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress) throws(IOError) -> IOResult<Int> {
        sendsTried.add(1, ordering: .relaxed)
        return try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("sendto") {
                peer.withSockAddr { pointer, length in
                    Glibc.sendto(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL), pointer, length)
                }
            }
        }
    }

    /// Receives one datagram from the connected peer without waiting; the count is the datagram's real
    /// length (more than `buffer.count` when it was truncated). `ECONNREFUSED`: ICMP port unreachable.
    public func receiveNow(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("recv") { Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_TRUNC)) }
        }
    }

    /// Turns off the UDP checksum of sent datagrams (`SO_NO_CHECK`). Only tests use it: the kernel then
    /// refuses segmented sends (`EINVAL`), as it does on a path that cannot segment.
    func disableChecksumsForTesting() throws(IOError) {
        try withDescriptor { fd throws(IOError) in
            var on: Int32 = 1
            let noCheck: Int32 = 11 // SO_NO_CHECK on Linux
            guard setsockopt(fd, SOL_SOCKET, noCheck, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
                throw IOError.syscall(call: "setsockopt(SO_NO_CHECK)", errno: Glibc.errno)
            }
        }
    }

    /// Runs `body` with the descriptor, or throws `IOError.closed` once `close()` was called; the
    /// descriptor stays open until `body` returns, even if another thread closes the socket meanwhile.
    @inline(__always)
    func withDescriptor<Result>(_ body: (Int32) throws(IOError) -> Result) throws(IOError) -> Result {
        var current = usage.load(ordering: .relaxed)
        while true {
            if current & 1 != 0 { throw IOError.closed }
            let (exchanged, found) = usage.weakCompareExchange(expected: current, desired: current + 2,
                                                               successOrdering: .acquiring, failureOrdering: .relaxed)
            if exchanged { break }
            current = found
        }
        defer {
            if usage.subtract(2, ordering: .acquiringAndReleasing).newValue == 1 { SocketOptions.close(fd) }
        }
        return try body(fd)
    }

    /// Wakes every waiter with `IOError.closed`; safe from any thread. The descriptor stays open (and
    /// non-blocking calls keep working) until `close()`.
    public func abort() {
        registration.abort()
    }

    /// Closes the socket (idempotent; safe from any thread): waiters wake with `IOError.closed`, and every
    /// later operation throws it without a system call. A call in progress on another thread finishes
    /// first; the descriptor is closed when it does.
    public func close() {
        let before = usage.bitwiseOr(1, ordering: .acquiringAndReleasing).oldValue
        guard before & 1 == 0 else { return }
        registration.deregister()
        if before == 0 { SocketOptions.close(fd) }
    }

    /// True once `close()` has been called.
    public var isClosed: Bool { usage.load(ordering: .acquiring) & 1 != 0 }
}
