import Dispatch
import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes access-log lines without ever blocking the event loops: `record` renders the line and appends it to
/// a buffer under a lock; a background queue writes the buffer out every 100 ms (or at once past 64 KiB).
/// If the destination stalls (a full pipe, a slow disk) and the buffer reaches 8 MiB, new lines are dropped
/// and counted instead of using more memory.
public final class AccessLog: Sendable {
    /// Where lines go.
    public enum Destination: Sendable, Equatable {
        case standardError
        /// Appended to this file, created if needed (mode 0644).
        case file(String)
    }

    public let format: Logger.Format
    public let destination: Destination
    /// Lines dropped because the buffer was full.
    public let dropped = Atomic<Int>(0)
    /// Lines written (or handed to the kernel).
    public let written = Atomic<Int>(0)
    private let state: SanitizerVisibleMutex<State>
    private let queue = DispatchQueue(label: "relayd.access-log")
    /// The open destination; replaced by `reopen` (on `queue`, between two writes).
    private let descriptor: Atomic<Int32>
    private static let flushThreshold = 64 * 1024
    private static let bufferLimit = 8 * 1024 * 1024

    private struct State {
        var buffer: [UInt8] = []
        var lines = 0
        var flushScheduled = false
        var closed = false
    }

    /// Opens the destination; throws with the system's reason when a file cannot be opened.
    public init(format: Logger.Format, destination: Destination) throws(IOError) {
        self.format = format
        self.destination = destination
        descriptor = Atomic(try Self.open(destination))
        state = SanitizerVisibleMutex(State())
    }

    private static func open(_ destination: Destination) throws(IOError) -> Int32 {
        switch destination {
        case .standardError:
            return STDERR_FILENO
        case let .file(path):
            let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if fd < 0 { throw IOError.syscall(call: "open(\(path))", errno: errno) }
            return fd
        }
    }

    deinit {
        if case .file = destination { Glibc.close(descriptor.load(ordering: .relaxed)) }
    }

    /// Writes out what is queued, then opens the file again (config reload), so a log rotated away by
    /// renaming it is followed by a fresh file. If the file cannot be opened, the old one stays in use.
    public func reopen() throws(IOError) {
        guard case .file = destination else { return }
        let fresh = try Self.open(destination)
        queue.sync {
            flush()
            let old = descriptor.exchange(fresh, ordering: .relaxed)
            Glibc.close(old)
        }
    }

    /// Renders and queues one line.
    public func record(_ entry: AccessLogEntry) {
        append(Logger.render(level: .info, message: "access", fields: entry.fields, format: format,
                             timestamp: Logger.timestamp()))
    }

    /// Renders and queues one line for an event that is not a connection (a multipath link switch), so the
    /// access log shows where traffic went and when it moved.
    public func recordEvent(_ message: String, fields: [(String, String)]) {
        append(Logger.render(level: .info, message: message, fields: fields, format: format,
                             timestamp: Logger.timestamp()))
    }

    /// Records that `count` lines of connections ended as `end` were left out (a flood of refusals).
    public func recordSuppressed(listener: String, proto: String, end: String, count: Int) {
        append(Logger.render(level: .info, message: "access lines suppressed",
                             fields: [("listener", listener), ("proto", proto), ("end", end),
                                      ("suppressed", String(count))],
                             format: format, timestamp: Logger.timestamp()))
    }

    private func append(_ line: String) {
        let (schedule, flushNow) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed, state.buffer.count + line.utf8.count <= Self.bufferLimit else {
                dropped.add(1, ordering: .relaxed)
                return (false, false)
            }
            state.buffer.append(contentsOf: line.utf8)
            state.lines += 1
            let full = state.buffer.count >= Self.flushThreshold
            if state.flushScheduled && !full { return (false, false) }
            let first = !state.flushScheduled
            state.flushScheduled = true
            return (first && !full, full)
        }
        if flushNow {
            queue.async { self.flush() }
        } else if schedule {
            queue.asyncAfter(deadline: .now() + .milliseconds(100)) { self.flush() }
        }
    }

    /// Writes out everything queued, waiting for it (shutdown, tests).
    public func flushNow() {
        queue.sync { flush() }
    }

    /// Runs on `queue`: takes the buffer and writes it, retrying short writes and EINTR.
    private func flush() {
        let (bytes, lines) = state.withLock { state -> ([UInt8], Int) in
            defer {
                state.buffer = []
                state.buffer.reserveCapacity(Self.flushThreshold)
                state.lines = 0
                state.flushScheduled = false
            }
            return (state.buffer, state.lines)
        }
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = write(descriptor.load(ordering: .relaxed), raw.baseAddress! + offset, raw.count - offset)
                if count > 0 {
                    offset += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    // The destination is gone or full for good: drop the rest rather than spin.
                    break
                }
            }
        }
        written.add(lines, ordering: .relaxed)
    }
}
