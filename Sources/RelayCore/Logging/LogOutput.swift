import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where the daemon's log lines go (`log.output`): standard error, standard output, or a file, switched and
/// reopened in place by a config reload or SIGHUP, so logrotate's rename-then-reload works and a reload can move
/// the log.
///
/// Writers read one descriptor number and write each line with one `write(2)`. A file keeps the same descriptor
/// number for the life of the process: reopening `dup2`s the fresh file onto it, which the kernel does
/// atomically, so a line written at that moment lands whole in the old file or the new one, never in a closed
/// or reused descriptor.
public final class LogOutput: Sendable {
    /// The destination as the config names it.
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        case standardError
        case standardOutput
        /// Appended to, created if needed (mode 0640).
        case file(String)

        public var description: String {
            switch self {
            case .standardError: "stderr"
            case .standardOutput: "stdout"
            case let .file(path): path
            }
        }
    }

    /// The descriptor lines are written to now.
    private let current = Atomic<Int32>(STDERR_FILENO)
    /// The descriptor number a file target keeps, once a file was opened.
    private let fileDescriptor: SanitizerVisibleMutex<Int32?> = SanitizerVisibleMutex(nil)

    public init() {}

    /// Sends lines to `target` from now on; a file is opened again even when it is the one in use (rotation).
    /// When the file cannot be opened, lines keep going where they went, and the error says why.
    public func apply(_ target: Target) throws(IOError) {
        switch target {
        case .standardError:
            current.store(STDERR_FILENO, ordering: .releasing)
        case .standardOutput:
            current.store(STDOUT_FILENO, ordering: .releasing)
        case let .file(path):
            let fresh = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
            if fresh < 0 { throw IOError.syscall(call: "open(\(path))", errno: errno) }
            let stable = fileDescriptor.withLock { kept -> Int32 in
                guard let kept else {
                    kept = fresh
                    return fresh
                }
                // dup2 clears close-on-exec on the target; relayd starts no programs, and it is set again at once.
                _ = dup2(fresh, kept)
                _ = fcntl(kept, F_SETFD, FD_CLOEXEC)
                Glibc.close(fresh)
                return kept
            }
            current.store(stable, ordering: .releasing)
        }
    }

    /// Writes one line whole to the destination of the moment.
    public func write(_ line: String) {
        LogSink.write(line, to: current.load(ordering: .acquiring))
    }
}

extension LogSink {
    /// Lines to `output`, wherever it points at the moment.
    public static func output(_ output: LogOutput) -> LogSink {
        LogSink { line in output.write(line) }
    }
}
