import CRelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// A connected, non-blocking TCP socket registered in one event loop.
///
/// Reads and writes try the kernel first and park on the registration's slots only on `EAGAIN`, so a
/// connection that always has data ready never suspends. One task may read while another writes
/// (the two directions of a relay); two concurrent readers (or writers) are a programming error.
public final class TCPConnection: Sendable {
    /// The connected descriptor. Closed by `close()` (or deinit), never elsewhere.
    public let fd: Int32
    /// The readiness slots in `loop`.
    public let registration: IORegistration
    /// The remote address, when known.
    public let peer: SocketAddress?
    private let closed = Atomic<Bool>(false)

    public var loop: EventLoop { registration.loop }

    /// Takes ownership of an accepted socket and registers it in `loop`. On failure the fd is closed.
    public convenience init(adopting socket: AcceptedSocket, on loop: EventLoop) throws(IOError) {
        try self.init(adoptingFD: socket.fd, peer: socket.peer, on: loop)
    }

    init(adoptingFD fd: Int32, peer: SocketAddress?, on loop: EventLoop) throws(IOError) {
        do {
            self.registration = try loop.register(fd: fd)
        } catch {
            SocketOptions.close(fd)
            throw error
        }
        self.fd = fd
        self.peer = peer
    }

    deinit {
        close()
    }

    /// Opens a connection to `address` without blocking the loop. Throws `IOError.timedOut` when the
    /// handshake has not completed by `timeout`, or `IOError.syscall(call: "connect", …)` with the
    /// kernel's reason (`ECONNREFUSED`, `ENETUNREACH`…).
    ///
    /// Kept apart from the `from:` variant, with the socket's set-up in a synchronous function: what an async
    /// function holds is allocated in its task for as long as the task lives, and a relayed connection's task
    /// passes through here. An optional source address in this frame cost every idle connection 2 KiB.
    public static func connect(to address: SocketAddress, on loop: EventLoop, timeout: Duration? = nil,
                               options: TCPOptions = .backend) async throws -> TCPConnection
    {
        let (connection, pending) = try startConnecting(to: address, on: loop, options: options, source: nil)
        if pending { try await finishConnecting(connection, timeout: timeout) }
        return connection
    }

    /// `connect(to:on:timeout:options:)` from `source`: the local end is bound there first (an address of this
    /// machine, port 0 for any), as HAProxy's `source` does.
    public static func connect(to address: SocketAddress, on loop: EventLoop, timeout: Duration? = nil,
                               options: TCPOptions = .backend, from source: SocketAddress) async throws
        -> TCPConnection
    {
        let (connection, pending) = try startConnecting(to: address, on: loop, options: options, source: source)
        if pending { try await finishConnecting(connection, timeout: timeout) }
        return connection
    }

    /// Opens the socket, binds it to `source` if given and starts the handshake; true when it is still in
    /// progress.
    private static func startConnecting(to address: SocketAddress, on loop: EventLoop, options: TCPOptions,
                                        source: SocketAddress?) throws -> (TCPConnection, Bool)
    {
        let fd = try syscall("socket") { crelay_socket(address.family, Int32(SOCK_STREAM.rawValue), 0) }
        do {
            try SocketOptions.apply(options, to: fd)
            if let source {
                let bound = source.withSockAddr { pointer, length in Glibc.bind(fd, pointer, length) }
                if bound != 0 { throw IOError.syscall(call: "bind \(source)", errno: Glibc.errno) }
            }
        } catch {
            SocketOptions.close(fd)
            throw error
        }
        // Connect before registering: epoll reports a fresh, unconnected socket as writable (and hung
        // up), which would read as "connected" here.
        let started = address.withSockAddr { pointer, length in Glibc.connect(fd, pointer, length) }
        let code = started == 0 ? 0 : Glibc.errno
        guard code == 0 || code == EINPROGRESS || code == EINTR else {
            SocketOptions.close(fd)
            throw IOError.syscall(call: "connect", errno: code)
        }
        return (try TCPConnection(adoptingFD: fd, peer: address, on: loop), code != 0)
    }

    /// Waits for the handshake's outcome.
    private static func finishConnecting(_ connection: TCPConnection, timeout: Duration?) async throws {
        let deadline = timeout.map { EventLoop.now() + $0.nanosecondsClamped }
        // The registration starts with no latched readiness and was made while the handshake was in
        // progress (a SYN_SENT socket polls as neither writable nor hung up), so the first write edge
        // is the handshake's outcome: SO_ERROR tells which.
        try await connection.registration.wait(for: .write, deadline: deadline)
        let failure = try SocketOptions.getInt(connection.fd, SOL_SOCKET, SO_ERROR, "SO_ERROR")
        if failure != 0 { throw IOError.syscall(call: "connect", errno: failure) }
    }

    // MARK: - Reading

    /// Reads what is available into `buffer` without waiting: `.processed(0)` is end of stream.
    @inline(__always)
    public func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("recv") { Glibc.recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// Copies what is available into `buffer` without taking it from the socket (`MSG_PEEK`): the bytes stay
    /// for the next read. `.processed(0)` is end of stream.
    public func peekNow(into buffer: UnsafeMutableRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("recv") { Glibc.recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_PEEK)) }
    }

    /// Reads at least one byte into `buffer`, waiting as needed; returns 0 at end of stream.
    nonisolated(nonsending) public func read(into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64? = nil) async throws -> Int {
        while true {
            switch try readNow(into: buffer) {
            case let .processed(count): return count
            case .wouldBlock: try await registration.wait(for: .read, deadline: deadline)
            }
        }
    }

    /// Waits until the socket may have data (or end of stream) to read, without holding a buffer.
    nonisolated(nonsending) public func waitReadable(deadline: UInt64? = nil) async throws {
        try await registration.wait(for: .read, deadline: deadline)
    }

    /// The inbound byte stream as an `AsyncSequence` of chunks, read into buffers of `pool`.
    ///
    /// Each chunk's bytes are valid until the next call to `next()`. A buffer is held only while data
    /// is arriving: when the socket would block, the buffer goes back to the pool before the task
    /// parks, so idle connections hold none. The sequence ends at end of stream.
    ///
    /// `freshlyRegistered: true` skips the first `recv` when it would only learn `EAGAIN`: right after
    /// registration, data already queued was reported by epoll and latched, so waiting first is safe —
    /// but only if nobody has waited on (and so consumed) the read readiness since.
    public func inbound(pool: BufferPool, freshlyRegistered: Bool = false) -> InboundChunks {
        InboundChunks(connection: self, pool: pool, startDrained: freshlyRegistered)
    }

    // MARK: - Writing

    /// Writes what the kernel accepts now without waiting.
    @inline(__always)
    public func writeNow(_ bytes: UnsafeRawBufferPointer) throws(IOError) -> IOResult<Int> {
        try syscallNonBlocking("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Writes all of `bytes`, waiting for buffer space as needed.
    nonisolated(nonsending) public func write(_ bytes: UnsafeRawBufferPointer, deadline: UInt64? = nil) async throws {
        var offset = 0
        while offset < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch try writeNow(rest) {
            case let .processed(count): offset += count
            case .wouldBlock: try await registration.wait(for: .write, deadline: deadline)
            }
        }
    }

    /// Writes all of `bytes` (a convenience for tests and probes; the relay path writes buffers).
    nonisolated(nonsending) public func write(_ bytes: [UInt8], deadline: UInt64? = nil) async throws {
        var offset = 0
        while offset < bytes.count {
            let result = try bytes.withUnsafeBytes { raw throws(IOError) in
                try writeNow(UnsafeRawBufferPointer(rebasing: raw[offset...]))
            }
            switch result {
            case let .processed(count): offset += count
            case .wouldBlock: try await registration.wait(for: .write, deadline: deadline)
            }
        }
    }

    // MARK: - Closing

    /// Sends FIN: the peer reads end of stream; we may still read what it sends (half-close).
    public func shutdownWrite() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Shuts down both directions: waiters in either direction wake up (with end of stream or an error),
    /// from any thread, without closing the fd.
    public func shutdownBoth() {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Makes the next `close()` send RST instead of FIN (used to pass a reset on to the other side).
    public func setResetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Whether bytes (or an end of stream) wait to be read, by one non-blocking peek that consumes nothing.
    /// Safe from any thread while the connection is open; false once it is closed.
    public func hasPendingInput() -> Bool {
        guard !closed.load(ordering: .acquiring) else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) >= 0
    }

    /// Whether the peer has shut down its side (`POLLRDHUP`, or the connection hung up or failed), even with
    /// bytes still unread: a peek cannot tell that while data waits before the end of stream.
    public func peerFinished() -> Bool {
        guard !closed.load(ordering: .acquiring) else { return true }
        // POLLRDHUP (Linux, <poll.h> under _GNU_SOURCE, which Glibc's Swift module does not define).
        let peerShutdown: Int16 = 0x2000
        var entry = pollfd(fd: fd, events: peerShutdown, revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        return entry.revents & (peerShutdown | Int16(POLLHUP) | Int16(POLLERR)) != 0
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

    /// The local address of the socket.
    public func localAddress() throws(IOError) -> SocketAddress {
        try SocketOptions.localAddress(fd)
    }
}
