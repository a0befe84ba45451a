import Foundation
import RelayIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A real etcd (Debian package `etcd-server`) for the cluster tests: a single member on free loopback ports with
/// a temporary data directory, started and stopped by the test. Its output goes to a file in the data directory.
///
/// Prefer `withEtcd`, which stops it and removes its data on every path. Tests that need it are skipped when the
/// binary is missing (`EtcdServer.isAvailable`).
public final class EtcdServer: @unchecked Sendable {
    // @unchecked: the process handle is only touched under `lock`.
    private let lock = NSLock()
    private var process: ChildProcess?
    /// Where clients connect: `127.0.0.1:PORT`.
    public let clientAddress: SocketAddress
    private let peerPort: UInt16
    /// The member's data; removed by `remove()`.
    public let dataDirectory: String

    /// The etcd binary, from `PATH` or the Debian location.
    public static var binary: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") + ["/usr/bin", "/usr/local/bin"] {
            let candidate = "\(directory)/etcd"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Whether etcd is installed; the message for a skipped test names the package.
    public static var isAvailable: Bool { binary != nil }
    public static let missingMessage: Comment = "etcd is not installed: apt-get install etcd-server (Debian package etcd-server)"

    /// Picks two free loopback ports and a data directory; `start()` runs etcd on them.
    public init() throws {
        clientAddress = try Self.freeTCPAddress()
        peerPort = try Self.freeTCPAddress().port
        dataDirectory = temporaryPath("relayd-etcd")
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }

    /// A loopback port nobody listens on now (the kernel's pick for port 0, released again).
    private static func freeTCPAddress() throws -> SocketAddress {
        let reservation = try PortReservation(.tcp)
        defer { reservation.release() }
        return reservation.address
    }

    /// `http://127.0.0.1:PORT`.
    public var clientURL: String { "http://\(clientAddress)" }

    /// Starts etcd (again, after `kill()` or `stop()`, on the same ports and data) and waits until it answers.
    public func start(timeout: Duration = .seconds(30)) async throws {
        guard let binary = Self.binary else { throw TestFailure("etcd is not installed") }
        let peerURL = "http://127.0.0.1:\(peerPort)"
        let arguments = [
            "--name", "default", "--data-dir", dataDirectory + "/data",
            "--listen-client-urls", clientURL, "--advertise-client-urls", clientURL,
            "--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
            "--initial-cluster", "default=\(peerURL)", "--log-level", "warn",
        ]
        let logPath = dataDirectory + "/etcd.log"
        let child = try ChildProcess(binary, arguments, output: .file(logPath), error: .file(logPath))
        lock.withLock { process = child }
        let address = clientAddress
        try await eventually("etcd to answer on \(address): \(log.suffix(2000))", within: timeout, poll: .milliseconds(50)) {
            guard child.isRunning else { throw TestFailure("etcd exited at start:\n\(self.log.suffix(4000))") }
            return Self.answers(address)
        }
    }

    /// Whether a range request gets an HTTP 200 (a blocking exchange on loopback, bounded by socket timeouts).
    private static func answers(_ address: SocketAddress) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard address.withSockAddr({ connect(fd, $0, $1) }) == 0 else { return false }
        let body = #"{"key":"AA=="}"#
        let request = "POST /v3/kv/range HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.utf8.count)\r\n"
            + "Connection: close\r\n\r\n\(body)"
        guard Array(request.utf8).withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) > 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        return count > 12 && String(decoding: buffer[0..<12], as: UTF8.self) == "HTTP/1.1 200"
    }

    /// etcd's output so far.
    public var log: String {
        FileManager.default.contents(atPath: dataDirectory + "/etcd.log").map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Sends `number` to etcd if it runs.
    public func signal(_ number: Int32) {
        lock.withLock {
            process?.signal(number)
        }
    }

    /// Kills etcd at once (SIGKILL), as a crash or a cut cable would, and waits until it is gone.
    public func kill() async throws {
        try await end(SIGKILL)
    }

    /// Stops etcd (SIGTERM) and waits until it is gone.
    public func stop() async throws {
        try await end(SIGTERM)
    }

    private func end(_ number: Int32) async throws {
        let child: ChildProcess? = lock.withLock {
            defer { process = nil }
            return process
        }
        guard let child else { return }
        child.signal(SIGCONT)
        child.signal(number)
        try await eventually("etcd to exit", within: .seconds(20), poll: .milliseconds(20)) { !child.isRunning }
    }

    /// Deletes the data directory.
    public func remove() {
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }
}

/// Runs `body` with a started etcd, and stops it and deletes its data when `body` returns or throws; on
/// failure etcd's output is recorded.
public func withEtcd<T>(_ body: (EtcdServer) async throws -> T) async throws -> T {
    let etcd = try EtcdServer()
    defer { etcd.remove() }
    do {
        try await etcd.start()
        let value = try await body(etcd)
        try await etcd.stop()
        return value
    } catch {
        _ = try? await etcd.kill()
        Issue.record("etcd output:\n\(etcd.log.suffix(3000))")
        throw error
    }
}
