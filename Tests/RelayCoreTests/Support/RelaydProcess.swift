import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The `relayd` binary built beside the test bundle (`swift test` builds every product).
func relaydBinary() throws -> URL {
    let bundleDirectory = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let binary = bundleDirectory.appendingPathComponent("relayd")
    try #require(FileManager.default.isExecutableFile(atPath: binary.path), "relayd binary not found at \(binary.path)")
    return binary
}

/// Writes `text` to a fresh temporary file and returns its path.
func temporaryFile(_ text: String, suffix: String = ".json5") throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("relayd-test-\(UUID().uuidString)\(suffix)").path
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

/// A `relayd` child process whose stderr is collected line by line.
final class RelaydProcess: @unchecked Sendable {
    let process = Process()
    private let output = OutputBuffer()
    private let pipe = Pipe()

    /// Starts `relayd arguments...`, optionally under `sh -c 'ulimit -n N; exec relayd ...'`.
    init(_ arguments: [String], openFilesLimit: Int? = nil) throws {
        let binary = try relaydBinary()
        if let openFilesLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            let quoted = ([binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
            process.arguments = ["-c", "ulimit -n \(openFilesLimit) && exec \(quoted)"]
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            if !data.isEmpty { output.append(String(decoding: data, as: UTF8.self)) }
        }
        try process.run()
    }

    var text: String { output.text }

    /// Polls the output until `predicate` holds (bounded).
    func waitForOutput(timeout: Duration = .seconds(20), _ predicate: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = text
            if predicate(current) { return current }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("relayd output did not match in time; got:\n\(text)")
        throw TestTimeout(limit: timeout)
    }

    /// The address a listener reported in its `listener ready` line.
    func listenerAddress(_ name: String) async throws -> String {
        let output = try await waitForOutput { $0.contains("listener=\(name) protocol=") }
        let line = try #require(output.split(separator: "\n").first { $0.contains("listener=\(name) protocol=") })
        let field = try #require(line.split(separator: " ").first { $0.hasPrefix("address=") })
        return String(field.dropFirst("address=".count))
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits for the process to exit (bounded) and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                kill(process.processIdentifier, SIGKILL)
                throw TestTimeout(limit: timeout)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// CPU time (user + system) the process has used, in seconds, from /proc.
    func cpuSeconds() throws -> Double {
        let stat = try String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)
        let fields = stat[stat.index(after: try #require(stat.lastIndex(of: ")")))...].split(separator: " ")
        let ticks = Double(fields[11])! + Double(fields[12])!
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// Text collected from a child's output, appended from the pipe's reader thread.
final class OutputBuffer: Sendable {
    private let storage = Mutex<String>("")
    func append(_ text: String) { storage.withLock { $0 += text } }
    var text: String { storage.withLock { $0 } }
}

/// Runs a command to completion and returns (status, combined output).
func runRelayd(_ arguments: [String]) async throws -> (Int32, String) {
    let child = try RelaydProcess(arguments)
    let status = try await child.waitForExit()
    try await Task.sleep(for: .milliseconds(50))
    return (status, child.text)
}
