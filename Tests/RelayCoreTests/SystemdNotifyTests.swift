import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The systemd notify protocol from the real binary: a test socket in `$NOTIFY_SOCKET` receives READY, RELOADING
/// with MONOTONIC_USEC and READY again at SIGHUP, STOPPING at SIGTERM, and WATCHDOG pings at half `$WATCHDOG_USEC`.
@Suite struct SystemdNotifyTests {
    /// A datagram socket standing in for systemd's, bound to a path or an abstract name.
    final class NotifySocket: @unchecked Sendable {
        let fd: Int32
        let name: String
        private let lock = NSLock()
        private var received: [(at: ContinuousClock.Instant, text: String)] = []

        init(abstract: Bool) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
            let unique = "relayd-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            name = abstract ? "@" + unique : NSTemporaryDirectory() + unique + ".sock"
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            var bytes = Array(name.utf8)
            if abstract { bytes[0] = 0 }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0 else { throw TestFailure("bind \(name): errno \(errno)") }
        }

        deinit {
            close(fd)
            if !name.hasPrefix("@") { unlink(name) }
        }

        /// Reads what has arrived, without waiting.
        func drain() {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard count > 0 else { return }
                let text = String(decoding: buffer[0..<count], as: UTF8.self)
                lock.withLock { received.append((ContinuousClock.now, text)) }
            }
        }

        var messages: [(at: ContinuousClock.Instant, text: String)] {
            drain()
            return lock.withLock { received }
        }

        /// The messages other than watchdog pings, in order.
        var states: [String] { messages.map(\.text).filter { $0 != "WATCHDOG=1" } }
    }

    static let config = """
        { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], drain_timeout: "1s" }
        """

    @Test func readyReloadingReadyStopping_andWatchdogPings() async throws {
        let notify = try NotifySocket(abstract: false)
        let path = try temporaryFile(Self.config)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path],
                             environment: ["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "200000"]) { child in
            try await eventually("READY=1") { notify.states.contains { $0.hasPrefix("READY=1\nSTATUS=serving 1 listener") } }
            // The listener is bound by then: a client gets through.
            let client = try await TestClient.connect(try SocketAddress(parsing: try await child.listenerAddress("e")))
            try await client.send("x")
            #expect(try await withTimeout { try await client.read(exactly: 1) } == Array("x".utf8))
            client.close()

            let before = notify.messages.filter { $0.text == "WATCHDOG=1" }.count
            try await Task.sleep(for: .seconds(1))
            let pings = notify.messages.filter { $0.text == "WATCHDOG=1" }.count - before
            // Every 100 ms: about 10 in a second; a loaded machine may delay a few.
            #expect((4...14).contains(pings), "\(pings) watchdog pings in one second")

            child.signal(SIGHUP)
            try await eventually("READY=1 after the reload") { notify.states.count >= 3 }
            child.signal(SIGTERM)
            _ = try await child.waitForExit()
            let states = notify.states
            #expect(states.count == 4, "\(states)")
            guard states.count == 4 else { return }
            #expect(states[0].hasPrefix("READY=1\nSTATUS="))
            let reloading = states[1].split(separator: "\n")
            #expect(reloading.first == "RELOADING=1")
            let usec = reloading.first { $0.hasPrefix("MONOTONIC_USEC=") }.flatMap { UInt64($0.dropFirst(15)) }
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            let nowUsec = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
            #expect(usec.map { $0 <= nowUsec && nowUsec - $0 < 60_000_000 } == true, "MONOTONIC_USEC \(String(describing: usec))")
            #expect(states[2].hasPrefix("READY=1\nSTATUS=serving 1 listener"))
            #expect(states[3].hasPrefix("STOPPING=1"))
        }
    }

    @Test func abstractSocketNames_andNoWatchdogForAnotherPID() async throws {
        let notify = try NotifySocket(abstract: true)
        let path = try temporaryFile(Self.config)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try await withRelayd(["serve", "-c", path], environment: [
            "NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "100000", "WATCHDOG_PID": "1",
        ]) { _ in
            try await eventually("READY=1") { notify.states.contains { $0.hasPrefix("READY=1") } }
            try await Task.sleep(for: .milliseconds(300))
            #expect(!notify.messages.contains { $0.text == "WATCHDOG=1" }, "the watchdog is another process's")
        }
    }

    @Test func aWedgedEventLoopStopsTheWatchdogPings() async throws {
        let notify = try NotifySocket(abstract: false)
        let notifier = try #require(SystemdNotifier(environment: ["NOTIFY_SOCKET": notify.name, "WATCHDOG_USEC": "100000"]))
        let config = try RelayConfig.parse(Self.config)
        let server = try RelayServer(config: config, logger: .disabled, notifier: notifier)
        let run = Task { try await server.run() }
        defer { run.cancel() }
        try await eventually("pings") { notify.messages.filter { $0.text == "WATCHDOG=1" }.count >= 3 }
        // Block one event loop's thread for 1.5 s, as a stuck job would.
        let loop = server.loops.loops[0]
        // The stuck job counts the pings itself, on the loop's own thread: a busy test machine cannot blur the
        // window. A round already past that loop may still ping once.
        let pingsWhileStuck = await Task(executorPreference: loop) { () -> Int in
            let before = notifier.watchdogPings.load(ordering: .relaxed)
            usleep(1_500_000)
            return notifier.watchdogPings.load(ordering: .relaxed) - before
        }.value
        #expect(pingsWhileStuck <= 1, "\(pingsWhileStuck) pings while a loop was stuck for 1.5 s")
        let after = notify.messages.filter { $0.text == "WATCHDOG=1" }.count
        try await eventually("pings again once the loop runs") {
            notify.messages.filter { $0.text == "WATCHDOG=1" }.count >= after + 2
        }
        server.shutdown()
        _ = await run.result
    }

    @Test func environment() {
        #expect(SystemdNotifier(environment: [:]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": ""]) == nil)
        #expect(SystemdNotifier(environment: ["NOTIFY_SOCKET": "relative/path"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "30000000"]) == .seconds(15))
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": String(getpid())])
            == .seconds(15))
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "0"]) == nil)
        #expect(SystemdNotifier.watchdogInterval(["WATCHDOG_USEC": "x"]) == nil)
    }
}

/// The shipped unit file and install script.
@Suite struct SystemdUnitTests {
    static var analyze: String? {
        ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: analyze != nil, "systemd-analyze is not installed: apt-get install systemd"))
    func unitPassesSystemdAnalyzeVerify() throws {
        let root = ConfigParsingTests.packageRoot
        let unit = try String(contentsOfFile: root + "/Tools/systemd/relayd.service", encoding: .utf8)
        #expect(unit.contains("Type=notify") && unit.contains("WatchdogSec=") && unit.contains("ExecReload="))
        // verify checks that the commands exist: point them at the built binary and the shipped config.
        let directory = temporaryPath("relayd-unit")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let local = unit.replacingOccurrences(of: "/usr/local/bin/relayd", with: try relaydBinary().path)
            .replacingOccurrences(of: "/etc/relayd/", with: root + "/Configurations/")
        try local.write(toFile: directory + "/relayd.service", atomically: true, encoding: .utf8)
        let result = try ChildProcess.run(Self.analyze!, ["verify", directory + "/relayd.service"])
        let output = String(decoding: result.output + result.error, as: UTF8.self)
        #expect(result.termination == .exited(0), "\(output)")
        #expect(!output.contains("relayd.service"), "systemd-analyze complained: \(output)")
    }

    @Test func installDryRunChangesNothingAndRewritesThePaths() throws {
        let root = ConfigParsingTests.packageRoot
        let result = try ChildProcess.run(root + "/Tools/install", ["--dry-run", "--prefix", "/opt/relayd",
                                                                   "--config-dir", "/srv/relayd"])
        let output = String(decoding: result.output, as: UTF8.self)
        #expect(result.termination == .exited(0), "\(String(decoding: result.error, as: UTF8.self))")
        #expect(output.contains("would run: install -m 0755"))
        #expect(output.contains("ExecStart=/opt/relayd/bin/relayd serve -c /srv/relayd/relayd.json5"))
        #expect(!FileManager.default.fileExists(atPath: "/opt/relayd/bin/relayd"))
    }
}
