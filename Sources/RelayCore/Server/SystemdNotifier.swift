import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd (or any supervisor speaking its notify protocol) what relayd is doing, without libsystemd: one
/// datagram per state change to the `AF_UNIX` socket named by `$NOTIFY_SOCKET` (a path, or an abstract name
/// written with a leading `@`), each a few `KEY=value` lines as `sd_notify(3)` describes them.
///
/// `READY=1` once every listener is bound, `RELOADING=1` with `MONOTONIC_USEC=` when a reload starts and `READY=1`
/// when it is done, `STOPPING=1` at shutdown, `STATUS=` with a one-line summary, and `WATCHDOG=1` every half
/// `$WATCHDOG_USEC` while every event loop answers (so a wedged loop stops the pings and systemd restarts relayd).
/// Nothing is sent when `$NOTIFY_SOCKET` is unset.
public final class SystemdNotifier: Sendable {
    private let fd: Int32
    private let address: sockaddr_un
    private let addressLength: socklen_t
    /// Half of `$WATCHDOG_USEC` when the watchdog is on for this process.
    public let watchdogInterval: Duration?
    /// Datagrams that could not be sent (the supervisor's socket is gone or full).
    public let failures = Atomic<Int>(0)
    /// `WATCHDOG=1` pings sent.
    public let watchdogPings = Atomic<Int>(0)

    /// A notifier for the socket `$NOTIFY_SOCKET` names, or nil when it is unset, empty or not a usable socket
    /// name (then relayd runs as if started by hand).
    public init?(environment: [String: String]) {
        guard let name = environment["NOTIFY_SOCKET"], !name.isEmpty else { return nil }
        var bytes = Array(name.utf8)
        if bytes[0] == UInt8(ascii: "@") { bytes[0] = 0 } else if bytes[0] != UInt8(ascii: "/") { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        self.fd = fd
        self.address = address
        // An abstract name is exactly its bytes; a path also takes its terminating NUL.
        self.addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes[0] == 0 ? 0 : 1))
        watchdogInterval = Self.watchdogInterval(environment)
    }

    deinit { close(fd) }

    /// Half of `$WATCHDOG_USEC`, when it is set and `$WATCHDOG_PID` (if set) is this process.
    static func watchdogInterval(_ environment: [String: String]) -> Duration? {
        guard let text = environment["WATCHDOG_USEC"], let usec = UInt64(text), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"], pid != String(getpid()) { return nil }
        return .microseconds(Int64(clamping: usec / 2))
    }

    /// Sends one notification (`KEY=value` lines); false when it could not be sent.
    @discardableResult
    public func send(_ lines: [String]) -> Bool {
        let message = Array(lines.joined(separator: "\n").utf8)
        var target = address
        let sent = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), raw, addressLength) }
            }
        }
        if sent < 0 { failures.add(1, ordering: .relaxed) }
        return sent >= 0
    }

    public func ready(status: String) { send(["READY=1", "STATUS=\(Self.oneLine(status))"]) }

    public func reloading() {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let usec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        send(["RELOADING=1", "MONOTONIC_USEC=\(usec)", "STATUS=reloading the config"])
    }

    public func stopping() { send(["STOPPING=1", "STATUS=draining connections and stopping"]) }

    /// `STATUS=` takes one line.
    static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
