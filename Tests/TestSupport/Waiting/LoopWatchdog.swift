import CChildProcess
import Foundation
import RelayIO
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Watches the loops the test servers and clients run on, and Swift's cooperative pool, where test bodies and
/// every task without an executor preference run. When one has run nothing for `stallLimit` (a job sent to it is
/// still waiting), it prints, once per test process, which one and the stacks of every thread (`gdb`, when
/// installed): a stalled loop silences every test server on it, a starved pool every test awaiting anything, and
/// the tests that then fail are rarely the one that held it.
enum LoopWatchdog {
    static let stallLimit: UInt64 = 4_000_000_000
    static let tick: UInt32 = 250_000

    private struct Probe: Sendable {
        var sentAt: UInt64?
        var thread: Int32 = 0
    }

    private final class Probes: Sendable {
        let state: SanitizerVisibleMutex<[Probe]>
        init(count: Int) { state = SanitizerVisibleMutex([Probe](repeating: Probe(), count: count)) }
        func withLock<T: Sendable>(_ body: (inout [Probe]) -> T) -> T { state.withLock { body(&$0) } }
    }

    static func start(_ group: EventLoopGroup) {
        let loops = group.loops
        // One probe per loop, and the last for the cooperative pool.
        let probes = Probes(count: loops.count + 1)
        let thread = Thread { @Sendable in
            var reported = false
            while !reported {
                usleep(tick)
                let now = EventLoop.now()
                for index in 0...loops.count {
                    // nil: a ping is out and not late yet; otherwise whether to send one or report a stall.
                    let step = probes.withLock { probes -> (stalled: Probe?, ping: Bool)? in
                        guard let sentAt = probes[index].sentAt else {
                            probes[index].sentAt = now
                            return (nil, true)
                        }
                        return now &- sentAt >= stallLimit ? (probes[index], false) : nil
                    }
                    if let stalled = step?.stalled {
                        report(index < loops.count ? "client loop \(index)" : "the cooperative pool", probe: stalled,
                               now: now)
                        reported = true
                        break
                    }
                    if step?.ping == true { ping(index < loops.count ? loops[index] : nil, index, probes) }
                }
            }
        }
        thread.name = "loop-watchdog"
        thread.start()
    }

    /// A job on `loop` (on the cooperative pool when nil) that clears its probe and notes the thread it ran on.
    private static func ping(_ loop: EventLoop?, _ index: Int, _ probes: Probes) {
        let job: @Sendable () async -> Void = {
            let thread = cchild_thread_id()
            probes.withLock { probes in
                probes[index].sentAt = nil
                probes[index].thread = thread
            }
        }
        if let loop {
            Task(executorPreference: loop, operation: job)
        } else {
            Task.detached(operation: job)
        }
    }

    private static func report(_ what: String, probe: Probe, now: UInt64) {
        let seconds = Double(now &- (probe.sentAt ?? now)) / 1e9
        let thread = probe.thread == 0 ? "not yet known" : "\(probe.thread)"
        var text = "test support: \(what) (last on thread \(thread)) has run nothing for "
            + "\(String(format: "%.1f", seconds)) s"
        if let stat = try? String(contentsOfFile: "/proc/self/task/\(probe.thread)/stat", encoding: .utf8),
           let close = stat.lastIndex(of: ")") {
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 13 { text += "; state \(fields[0]), utime \(fields[11]) stime \(fields[12]) ticks" }
        }
        if let wchan = try? String(contentsOfFile: "/proc/self/task/\(probe.thread)/wchan", encoding: .utf8) {
            text += ", wchan \(wchan)"
        }
        FileHandle.standardError.write(Data((text + "\n").utf8))
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else {
            FileHandle.standardError.write(Data("test support: install gdb for the threads' stacks\n".utf8))
            return
        }
        // gdb stops every thread of this process, this one too: its output goes to a file, never to a pipe this
        // thread would have to drain.
        let path = temporaryPath("loop-watchdog-stacks", suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var stacks = "(gdb did not start)"
        if FileManager.default.createFile(atPath: path, contents: nil),
           let gdb = try? ChildProcess("/usr/bin/gdb", ["-p", "\(getpid())", "-batch", "-nx", "-ex", "set pagination off",
                                                        "-ex", "thread apply all bt 25"],
                                       output: .file(path), error: .file(path)) {
            _ = gdb.waitUntilExit()
            stacks = (try? String(contentsOfFile: path, encoding: .utf8)) ?? "(no gdb output)"
        }
        FileHandle.standardError.write(Data("test support: every thread's stack\n\(stacks)\n".utf8))
    }
}
