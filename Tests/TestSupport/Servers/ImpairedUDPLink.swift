import RelayIO

/// A UDP path with impairments, in the test process: datagrams from the near side (whoever sent to `address` last)
/// go to `target`, and the target's answers go back, each way delayed by `delay`, lost with probability `loss`
/// (a seeded generator, so a run repeats), or all dropped while `blackholed`. Every setting can change while it
/// runs, so a test can cut a link mid-stream and watch traffic leave it.
public final class ImpairedUDPLink: TestServer {
    /// Where the near side sends.
    public let address: SocketAddress
    /// The bound sockets: `front` faces the near side, `back` is connected to the target.
    private let front: UDPSocket, back: UDPSocket
    private let task: Task<Void, Never>
    private struct Settings {
        var delay: Duration
        var loss: Double
        var blackholed = false
        var random: UInt64
    }
    /// The settings, shared with the forwarding tasks.
    private final class Control: Sendable {
        let settings: SanitizerVisibleMutex<Settings>
        /// The near side: whoever sent to the link last.
        let near = SanitizerVisibleMutex<SocketAddress?>(nil)
        init(_ settings: Settings) { self.settings = SanitizerVisibleMutex(settings) }
    }
    private let control: Control
    /// Datagrams carried towards the target and back, and those dropped by `loss` or the blackhole.
    public let forwarded = CountBox(), returned = CountBox(), dropped = CountBox()

    /// A link on loopback towards `target`, `delay` each way, losing `loss` (0–1) of the datagrams each way.
    public init(to target: SocketAddress, delay: Duration = .zero, loss: Double = 0, seed: UInt64 = 1) throws {
        let loop = clientLoops.next()
        let front = try UDPSocket.bind(try SocketAddress(ip: "127.0.0.1", port: 0), on: loop)
        let back = try UDPSocket.connect(to: target, on: loop)
        self.front = front
        self.back = back
        address = try front.localAddress()
        let control = Control(Settings(delay: delay, loss: loss, random: seed))
        self.control = control
        let (forwarded, returned, dropped) = (self.forwarded, self.returned, self.dropped)
        task = Task(executorPreference: loop) {
            await withDiscardingTaskGroup { group in
                // Near side to target.
                group.addTask(executorPreference: loop) {
                    await withDiscardingTaskGroup { delayed in
                        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                        defer { buffer.deallocate() }
                        while let (count, sender, _) = try? await front.receive(into: buffer) {
                            control.near.withLock { $0 = sender }
                            let bytes = Array(buffer[0..<count])
                            Self.pass(bytes, control: control, dropped: dropped, in: &delayed, loop: loop) {
                                _ = bytes.withUnsafeBytes { try? back.sendNow($0) }
                                forwarded.increment()
                            }
                        }
                    }
                }
                // Target back to the near side.
                group.addTask(executorPreference: loop) {
                    await withDiscardingTaskGroup { delayed in
                        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                        defer { buffer.deallocate() }
                        while let (count, _, _) = try? await back.receive(into: buffer) {
                            guard let peer = control.near.withLock({ $0 }) else { continue }
                            let bytes = Array(buffer[0..<count])
                            Self.pass(bytes, control: control, dropped: dropped, in: &delayed, loop: loop) {
                                _ = bytes.withUnsafeBytes { try? front.sendNow($0, to: peer) }
                                returned.increment()
                            }
                        }
                    }
                }
            }
        }
    }

    /// Drops the datagram or sends it, at once or after the delay.
    private static func pass(_ bytes: [UInt8], control: Control, dropped: CountBox,
                             in group: inout DiscardingTaskGroup, loop: EventLoop,
                             send: @escaping @Sendable () -> Void) {
        let (delay, lost) = control.settings.withLock { settings -> (Duration, Bool) in
            if settings.blackholed { return (settings.delay, true) }
            // SplitMix64's step and mix.
            settings.random &+= 0x9E37_79B9_7F4A_7C15
            var z = settings.random
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let draw = Double(z >> 11) / Double(UInt64(1) << 53)
            return (settings.delay, draw < settings.loss)
        }
        if lost {
            dropped.increment()
            return
        }
        if delay == .zero {
            send()
        } else {
            group.addTask(executorPreference: loop) {
                try? await loop.sleep(for: delay)
                send()
            }
        }
    }

    /// Drops everything both ways from now on (`true`), or carries traffic again (`false`).
    public func blackhole(_ on: Bool = true) {
        control.settings.withLock { $0.blackholed = on }
    }

    /// Changes the loss probability (0–1), each way.
    public func setLoss(_ loss: Double) {
        control.settings.withLock { $0.loss = loss }
    }

    public func stop() async {
        front.abort()
        back.abort()
        task.cancel()
        await task.value
        front.close()
        back.close()
    }
}
