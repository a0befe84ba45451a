import CChildProcess
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How a child process ended.
public enum ChildTermination: Equatable, Sendable, CustomStringConvertible {
    /// It called exit with this status.
    case exited(Int32)
    /// A signal with this number ended it.
    case signalled(Int32)

    public var description: String {
        switch self {
        case .exited(let status): "exit status \(status)"
        case .signalled(let number): "signal \(number)"
        }
    }
}

/// A child process started with `posix_spawn`, for the tests that run relayd, etcd, openssl or promtool.
///
/// Not Foundation's `Process`: on Linux its `run()` sometimes reads past the end of a directory entry and crashes
/// the whole test process, and its `FileHandle` reads trap on an interrupted system call; both were seen in
/// parallel test runs. Here the child gets its three standard streams and no other descriptor of the test process
/// (no pipe end meant for another child, no listening socket of another test that would keep its port bound), and
/// starts with no signal blocked and every signal at its default action.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `ended` is guarded by `lock`; everything else is set in `init` and only read afterwards.

    /// Where a standard stream of the child comes from or goes to.
    public enum Stream: Sendable {
        /// /dev/null.
        case null
        /// A file: read from its start (standard input), or appended to (output; created when missing).
        case file(String)
        /// A pipe whose other end the parent holds (`inputPipe`, `outputPipe`, `errorPipe`).
        case pipe
    }

    /// The child's process id.
    public let pid: pid_t
    /// The write end of the child's standard input when it is `.pipe`.
    public private(set) var inputPipe: Int32?
    /// The read ends of the child's standard output and error when they are `.pipe`.
    public let outputPipe: Int32?
    public let errorPipe: Int32?

    private let lock = NSLock()
    private var ended: ChildTermination?

    /// Starts `executable` (a path) with `arguments` and the test process's environment, plus `environment`
    /// (which replaces variables of the same name).
    public init(_ executable: String, _ arguments: [String], input: Stream = .null, output: Stream = .null,
                error: Stream = .null, environment: [String: String] = [:]) throws
    {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // The parent's ends of the pipes, and the child's ends to close here once it has started.
        var parentEnds: [Int32?] = [nil, nil, nil]
        var childEnds: [Int32] = []
        defer { childEnds.forEach { _ = close($0) } }
        do {
            for (target, stream) in [(Int32(0), input), (1, output), (2, error)] {
                switch stream {
                case .null:
                    try Self.check(posix_spawn_file_actions_addopen(&actions, target, "/dev/null",
                                                                    target == 0 ? O_RDONLY : O_WRONLY, 0),
                                   "posix_spawn_file_actions_addopen /dev/null")
                case .file(let path):
                    let flags = target == 0 ? O_RDONLY : O_WRONLY | O_APPEND | O_CREAT
                    try Self.check(posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o644),
                                   "posix_spawn_file_actions_addopen \(path)")
                case .pipe:
                    var ends: [Int32] = [-1, -1]
                    guard cchild_pipe_cloexec(&ends) == 0 else { throw ChildProcessError("pipe2", errno: errno) }
                    let (childEnd, parentEnd) = target == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
                    childEnds.append(childEnd)
                    parentEnds[Int(target)] = parentEnd
                    // The parent's end never blocks: `run` carries input and output at the same time with poll.
                    _ = fcntl(parentEnd, F_SETFL, fcntl(parentEnd, F_GETFL) | O_NONBLOCK)
                    // dup2 onto 0, 1 or 2 clears close-on-exec on the copy only.
                    try Self.check(posix_spawn_file_actions_adddup2(&actions, childEnd, target),
                                   "posix_spawn_file_actions_adddup2")
                }
            }

            // Nothing else of the test process (sockets, epoll, files its own code left inheritable) reaches the child.
            try Self.check(cchild_spawn_closefrom(&actions, 3), "posix_spawn_file_actions_addclosefrom_np")

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            var everySignal = sigset_t()
            sigfillset(&everySignal)
            try Self.check(posix_spawnattr_setsigmask(&attributes, &noSignals), "posix_spawnattr_setsigmask")
            try Self.check(posix_spawnattr_setsigdefault(&attributes, &everySignal), "posix_spawnattr_setsigdefault")
            try Self.check(posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)),
                           "posix_spawnattr_setflags")

            let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var inherited = ProcessInfo.processInfo.environment
            for (key, value) in environment { inherited[key] = value }
            let envp: [UnsafeMutablePointer<CChar>?] = inherited.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { envp.forEach { free($0) } }
            var child: pid_t = 0
            try Self.check(posix_spawn(&child, executable, &actions, &attributes, argv, envp),
                           "posix_spawn \(executable)")
            pid = child
        } catch {
            parentEnds.forEach { if let fd = $0 { close(fd) } }
            throw error
        }
        inputPipe = parentEnds[0]
        outputPipe = parentEnds[1]
        errorPipe = parentEnds[2]
    }

    private static func check(_ result: Int32, _ what: String) throws {
        if result != 0 { throw ChildProcessError(what, errno: result) }
    }

    /// How the child ended, once it has (and it has been seen to: `isRunning` and `waitUntilExit` look).
    public var termination: ChildTermination? {
        lock.withLock { ended }
    }

    /// Whether the child still runs. Reaps it when it has ended.
    public var isRunning: Bool {
        lock.withLock {
            guard ended == nil else { return false }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                ended = Self.termination(status)
            } else if result < 0, errno == ECHILD {
                ended = .exited(-1)
            }
            return ended == nil
        }
    }

    private static func termination(_ status: Int32) -> ChildTermination {
        // WIFEXITED / WEXITSTATUS / WTERMSIG, spelled out: the macros are not imported.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// Sends `number` to the child if it still runs.
    public func signal(_ number: Int32) {
        if isRunning { kill(pid, number) }
    }

    /// Blocks until the child has ended and returns how. For a child that ends quickly or was just killed; tests
    /// waiting on a longer-lived one poll `isRunning` instead, without blocking a thread.
    public func waitUntilExit() -> ChildTermination {
        lock.withLock {
            if let ended { return ended }
            var status: Int32 = 0
            var result: pid_t
            repeat {
                result = waitpid(pid, &status, 0)
            } while result < 0 && errno == EINTR
            let value = result == pid ? Self.termination(status) : .exited(-1)
            ended = value
            return value
        }
    }

    /// Closes the write end of the child's standard input (its end of file).
    public func closeInput() {
        if let fd = inputPipe {
            close(fd)
            inputPipe = nil
        }
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            _ = waitUntilExit()
        }
        [inputPipe, outputPipe, errorPipe].forEach { if let fd = $0 { close(fd) } }
    }

    /// Runs `executable arguments...` to its end with `input` on its standard input and returns how it ended and
    /// everything it wrote to standard output and error. Killed, and `TestTimeout` thrown, after `timeout`.
    public static func run(_ executable: String, _ arguments: [String], input: [UInt8] = [],
                           timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) throws
        -> (termination: ChildTermination, output: [UInt8], error: [UInt8])
    {
        // A child that exits without reading all its input must not take the test process with it.
        _ = ignoreBrokenPipes
        let child = try ChildProcess(executable, arguments, input: .pipe, output: .pipe, error: .pipe)
        let deadline = ContinuousClock.now + timeout
        var output: [UInt8] = []
        var error: [UInt8] = []
        var written = 0
        var inputFD = child.inputPipe
        if input.isEmpty { child.closeInput(); inputFD = nil }
        var open: [Int32: Bool] = [child.outputPipe!: true, child.errorPipe!: true]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while open.values.contains(true) || inputFD != nil {
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                kill(child.pid, SIGKILL)
                _ = child.waitUntilExit()
                throw TestTimeout(what: "\(executable) to finish", limit: timeout, sourceLocation: sourceLocation)
            }
            var fds: [pollfd] = open.filter(\.value).map { pollfd(fd: $0.key, events: Int16(POLLIN), revents: 0) }
            if let inputFD { fds.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            let millis = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
                                   + 1, 1000))
            let ready = poll(&fds, nfds_t(fds.count), millis)
            if ready < 0 {
                if errno == EINTR { continue }
                throw ChildProcessError("poll", errno: errno)
            }
            for entry in fds where entry.revents != 0 {
                if entry.fd == inputFD {
                    let count = input[written...].withUnsafeBytes { write(entry.fd, $0.baseAddress, $0.count) }
                    if count > 0 { written += count }
                    if written == input.count || (count < 0 && errno != EINTR && errno != EAGAIN) {
                        child.closeInput()
                        inputFD = nil
                    }
                    continue
                }
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == child.outputPipe { output += buffer[..<count] } else { error += buffer[..<count] }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    open[entry.fd] = false
                }
            }
        }
        return (child.waitUntilExit(), output, error)
    }
}

/// Writing into a pipe whose reader has gone fails with EPIPE instead of killing the test process (done once).
private let ignoreBrokenPipes: Void = {
    signal(SIGPIPE, SIG_IGN)
}()

/// A system call behind `ChildProcess` failed.
public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String

    init(_ what: String, errno number: Int32) {
        description = "\(what) failed: \(String(cString: strerror(number)))"
    }
}
