import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `relayd` binary built beside the test bundle (`swift test` builds every product).
public func relaydBinary() throws -> URL {
    let bundleDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let binary = bundleDirectory.appendingPathComponent("relayd")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "relayd binary not found at \(binary.path)")
    return binary
}

/// A `relayd` child process whose output (stdout and stderr) goes to a temporary file, so that a test can read
/// what it printed so far at any moment. Prefer `withRelayd`, which ends the process on every path.
public final class RelaydProcess: Sendable {
    public let process: ChildProcess
    /// Where the child writes its output.
    private let outputPath = temporaryPath("relayd-output", suffix: ".log")

    /// Starts `relayd arguments...`, optionally under `sh -c 'ulimit -n N && exec relayd ...'` (the limit applies
    /// to the child only), with `input` on its standard input (from a file) when given.
    public init(_ arguments: [String], openFilesLimit: Int? = nil, input: String? = nil,
                environment: [String: String] = [:]) throws {
        let binary = try relaydBinary()
        var executable = binary.path
        var argv = arguments
        if let openFilesLimit {
            executable = "/bin/sh"
            let quoted = ([binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
            argv = ["-c", "ulimit -n \(openFilesLimit) && exec \(quoted)"]
        }
        guard FileManager.default.createFile(atPath: outputPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: outputPath])
        }
        if let input {
            let inputPath = try temporaryFile(input, suffix: ".input")
            // posix_spawn returns once the child has opened it, so it can go at once.
            defer { try? FileManager.default.removeItem(atPath: inputPath) }
            process = try ChildProcess(executable, argv, input: .file(inputPath), output: .file(outputPath),
                                       error: .file(outputPath), environment: environment)
        } else {
            process = try ChildProcess(executable, argv, output: .file(outputPath), error: .file(outputPath),
                                       environment: environment)
        }
    }

    /// Everything the process printed so far.
    public var text: String {
        (FileManager.default.contents(atPath: outputPath)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Waits until the output so far satisfies `predicate` (bounded) and returns it.
    @discardableResult
    public func waitForOutput(_ what: String = "relayd output", timeout: Duration = .seconds(30),
                              sourceLocation: SourceLocation = #_sourceLocation,
                              _ predicate: (String) -> Bool) async throws -> String {
        var current = ""
        do {
            try await eventually(what, within: timeout, poll: .milliseconds(20), sourceLocation: sourceLocation) {
                current = text
                return predicate(current)
            }
        } catch {
            Issue.record("relayd output did not match in time; got:\n\(text.suffix(4000))", sourceLocation: sourceLocation)
            throw error
        }
        return current
    }

    /// The address a listener reported in its `listener ready` line.
    public func listenerAddress(_ name: String) async throws -> String {
        try await reportedAddress("listener=\(name) protocol=")
    }

    /// The `address=` field of the first output line containing `marker`, once there is one.
    public func reportedAddress(_ marker: String) async throws -> String {
        let output = try await waitForOutput("a line with \(marker)") { $0.contains(marker) }
        let line = try #require(output.split(separator: "\n").first { $0.contains(marker) })
        let field = try #require(line.split(separator: " ").first { $0.hasPrefix("address=") })
        return String(field.dropFirst("address=".count))
    }

    public func signal(_ number: Int32) {
        process.signal(number)
    }

    /// Whether the process still runs.
    public var isRunning: Bool { process.isRunning }

    /// The process id.
    public var pid: pid_t { process.pid }

    /// Waits (bounded) for the process to exit and returns its exit status; its output is complete by then. On
    /// time-out the process is killed and `TestTimeout` thrown.
    public func waitForExit(timeout: Duration = .seconds(30), sourceLocation: SourceLocation = #_sourceLocation)
        async throws -> Int32
    {
        do {
            try await eventually("relayd to exit", within: timeout, poll: .milliseconds(20), sourceLocation: sourceLocation) {
                !process.isRunning
            }
        } catch {
            process.signal(SIGKILL)
            throw error
        }
        switch process.waitUntilExit() {
        case .exited(let status): return status
        case .signalled(let number): return 128 + number
        }
    }

    /// Records every sanitizer report in the output as an issue, quoting it in full: they land in the child's
    /// output, not the test run's, where CI would not see them.
    public func recordSanitizerReports() {
        let output = text
        guard output.contains("WARNING: ThreadSanitizer") || output.contains("ERROR: AddressSanitizer") else { return }
        Issue.record("relayd reported a sanitizer finding:\n\(output)")
    }

    /// CPU time (user + system) the process has used, in seconds, from /proc.
    public func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.pid)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let ticks = try #require(Double(fields[11])) + (try #require(Double(fields[12])))
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    deinit {
        // The process, if it still runs, is killed and reaped when `process` goes.
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

/// Runs `body` with a `relayd` child process, and makes sure it has exited when `body` returns or throws: a child
/// still running after `body` gets SIGTERM and is waited for (killed after `shutdownLimit`); on failure its output
/// is recorded and it is killed at once.
public func withRelayd<T>(_ arguments: [String], openFilesLimit: Int? = nil, shutdownLimit: Duration = .seconds(30),
                          input: String? = nil, environment: [String: String] = [:],
                          _ body: (RelaydProcess) async throws -> T) async throws -> T {
    let child = try RelaydProcess(arguments, openFilesLimit: openFilesLimit, input: input, environment: environment)
    // Under `swift test --sanitize=thread` the child is instrumented too, and reports into its own output.
    defer { child.recordSanitizerReports() }
    do {
        let value = try await body(child)
        if child.isRunning {
            child.signal(SIGTERM)
            _ = try await child.waitForExit(timeout: shutdownLimit)
        } else if case .signalled(let number) = child.process.termination {
            Issue.record("relayd died of signal \(number) while the test ran")
        }
        return value
    } catch {
        if !child.isRunning, case .signalled(let number) = child.process.termination {
            // A crash is the finding, whatever the test was waiting for when it came.
            Issue.record("relayd died of signal \(number) while the test ran")
        }
        Issue.record("relayd output:\n\(child.text.suffix(4000))")
        child.signal(SIGKILL)
        _ = try? await child.waitForExit(timeout: .seconds(10))
        throw error
    }
}

/// Runs `relayd arguments...` to completion and returns its exit status and everything it printed.
public func runRelayd(_ arguments: [String], timeout: Duration = .seconds(60), input: String? = nil) async throws
    -> (Int32, String)
{
    try await withRelayd(arguments, input: input) { child in
        let status = try await child.waitForExit(timeout: timeout)
        return (status, child.text)
    }
}
