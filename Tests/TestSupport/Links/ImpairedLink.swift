import RelayIO
import Synchronization

/// An impaired network path in-process, between one client and one UDP server: the client sends to `address`,
/// the link forwards to the server from a socket of its own and sends the replies back, each direction through
/// `LinkImpairment` (loss, duplication, delay, jitter, reordering), with a seeded generator so a run repeats.
///
/// `rebind()` moves the server-side socket to a new port, which the server sees as its client moving (NAT
/// rebinding). Every delayed datagram is a child task of the link's own task, so `stop()` ends them all.
public final class ImpairedLink: TestServer {
    /// Where the client sends.
    public let address: SocketAddress
    /// The server behind the link.
    public let target: SocketAddress
    private let front: UDPSocket
    private let back: SanitizerVisibleMutex<UDPSocket>
    /// The current impairment, per direction; changeable while the link runs.
    private let impairment: SanitizerVisibleMutex<(up: LinkImpairment, down: LinkImpairment)>
    private let random: SanitizerVisibleMutex<UInt64>
    /// The client's address: the source of the last datagram from the client side.
    private let client = SanitizerVisibleMutex<SocketAddress?>(nil)
    private let task: SanitizerVisibleMutex<Task<Void, Never>?> = SanitizerVisibleMutex(nil)
    /// Rung by `rebind()` so the reader of the server side moves to the new socket.
    private let backChanged = SanitizerVisibleMutex<Int>(0)
    /// Datagrams dropped, duplicated and forwarded, both directions together.
    public let dropped = Atomic<Int>(0)
    public let duplicated = Atomic<Int>(0)
    public let forwarded = Atomic<Int>(0)
    /// Datagrams the link received from the server side.
    public let fromServer = Atomic<Int>(0)
    /// The last 256 datagrams from the client, oldest first (for replay and forgery tests).
    private let captured = SanitizerVisibleMutex<[[UInt8]]>([])
    let loop: EventLoop

    public init(to target: SocketAddress, up: LinkImpairment = .none, down: LinkImpairment? = nil) throws {
        loop = clientLoops.next()
        self.target = target
        front = try UDPSocket.bind(try SocketAddress(ip: "127.0.0.1", port: 0), on: loop)
        address = try front.localAddress()
        back = SanitizerVisibleMutex(try UDPSocket.connect(to: target, on: loop))
        impairment = SanitizerVisibleMutex((up, down ?? up))
        random = SanitizerVisibleMutex(up.seed | 1)
        let task = Task(executorPreference: loop) { [self] in await self.run() }
        self.task.withLock { $0 = task }
    }

    /// New impairments from now on.
    public func impair(up: LinkImpairment, down: LinkImpairment? = nil) {
        impairment.withLock { $0 = (up, down ?? up) }
    }

    /// Moves the server side to a new socket (a new source port): the server sees the client move.
    public func rebind() throws {
        let fresh = try UDPSocket.connect(to: target, on: loop)
        let old = back.withLock { socket in
            defer { socket = fresh }
            return socket
        }
        backChanged.withLock { $0 += 1 }
        old.abort()
    }

    /// The last datagrams the client sent (at most 256), oldest first.
    public var capturedFromClient: [[UInt8]] { captured.withLock { $0 } }

    /// Sends `bytes` to the server from the link's server-side socket, as if the client had sent them.
    public func injectToServer(_ bytes: [UInt8]) {
        let socket = back.withLock { $0 }
        _ = bytes.withUnsafeBytes { try? socket.sendNow($0) }
    }

    public func stop() async {
        front.abort()
        back.withLock { $0.abort() }
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
        front.close()
        back.withLock { $0.close() }
    }

    private func run() async {
        await withDiscardingTaskGroup { delayed in
            delayed.addTask { await self.clientSide() }
            delayed.addTask { await self.serverSide() }
        }
    }

    /// Client → server.
    private func clientSide() async {
        await withDiscardingTaskGroup { sends in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
            defer { buffer.deallocate() }
            while !Task.isCancelled {
                guard let (count, sender, _) = try? await front.receive(into: buffer) else { break }
                client.withLock { $0 = sender }
                let bytes = Array(buffer[0..<count])
                captured.withLock { captured in
                    if captured.count == 256 { captured.removeFirst() }
                    captured.append(bytes)
                }
                let direction = impairment.withLock { $0.up }
                for delay in fate(direction) {
                    sends.addTask { [self] in
                        if delay > .zero { try? await loop.sleep(for: delay) }
                        let socket = back.withLock { $0 }
                        _ = bytes.withUnsafeBytes { try? socket.sendNow($0) }
                    }
                }
            }
            sends.cancelAll()
        }
    }

    /// Server → client, following `rebind()`.
    private func serverSide() async {
        await withDiscardingTaskGroup { sends in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
            defer { buffer.deallocate() }
            while !Task.isCancelled {
                let (socket, generation) = (back.withLock { $0 }, backChanged.withLock { $0 })
                let received: (count: Int, from: SocketAddress, truncated: Bool)
                do {
                    received = try await socket.receive(into: buffer)
                } catch {
                    // Aborted by `rebind()` (read the new socket) or by `stop()`; an ICMP error is passed over.
                    if backChanged.withLock({ $0 }) != generation { continue }
                    if case IOError.closed = error { break }
                    continue
                }
                fromServer.add(1, ordering: .relaxed)
                guard let destination = client.withLock({ $0 }) else { continue }
                let bytes = Array(buffer[0..<received.count])
                let direction = impairment.withLock { $0.down }
                for delay in fate(direction) {
                    sends.addTask { [self] in
                        if delay > .zero { try? await loop.sleep(for: delay) }
                        _ = bytes.withUnsafeBytes { try? front.sendNow($0, to: destination) }
                    }
                }
            }
            sends.cancelAll()
        }
    }

    /// The delays of the copies of one datagram: none when it is lost, two when it is duplicated.
    private func fate(_ impairment: LinkImpairment) -> [Duration] {
        random.withLock { state in
            func next() -> Double {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                return Double(state >> 11) / Double(1 << 53)
            }
            if next() < impairment.loss {
                dropped.add(1, ordering: .relaxed)
                return []
            }
            func delay() -> Duration {
                var total = impairment.delay + impairment.jitter * next()
                if next() < impairment.reordering { total += impairment.reorderDelay }
                return total
            }
            forwarded.add(1, ordering: .relaxed)
            if next() < impairment.duplication {
                duplicated.add(1, ordering: .relaxed)
                return [delay(), delay()]
            }
            return [delay()]
        }
    }
}
