import Foundation
import Testing
@testable import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The process runner every test that starts relayd, etcd, openssl or promtool goes through.
@Suite struct ChildProcessTests {
    @Test func run_feedsTheInput_andCollectsBothOutputsAndTheExitStatus() throws {
        // More than a pipe holds each way, so input and output must be carried at the same time.
        let input = [UInt8]((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let result = try ChildProcess.run("/bin/sh", ["-c", "cat; echo oops >&2; exit 3"], input: input)
        #expect(result.termination == .exited(3))
        #expect(result.output == input)
        #expect(String(decoding: result.error, as: UTF8.self) == "oops\n")
    }

    @Test func childEndedBySignal_isReportedAsSignalled() throws {
        let result = try ChildProcess.run("/bin/sh", ["-c", "kill -TERM $$"])
        #expect(result.termination == .signalled(SIGTERM))
    }

    @Test func childStartsWithNoSignalBlocked_andOnlyItsThreeStreamsOpen() throws {
        // A pipe end of this process kept open here must not reach the child.
        let other = try ChildProcess("/bin/sh", ["-c", "sleep 30"], input: .pipe, output: .pipe)
        defer { other.signal(SIGKILL) }
        let result = try ChildProcess.run("/bin/sh", ["-c", "grep SigBlk /proc/self/status; ls /proc/self/fd"])
        let lines = String(decoding: result.output, as: UTF8.self).split(separator: "\n")
        #expect(lines.first == "SigBlk:\t0000000000000000")
        // 0, 1, 2 and the descriptor `ls` reads the directory with.
        #expect(lines.dropFirst().count == 4, "open in the child: \(lines.dropFirst())")
    }

    @Test func isRunning_andSignal_followTheChild() async throws {
        let child = try ChildProcess("/bin/sleep", ["30"])
        #expect(child.isRunning)
        #expect(child.termination == nil)
        child.signal(SIGKILL)
        try await eventually("the child to end") { !child.isRunning }
        #expect(child.termination == .signalled(SIGKILL))
        #expect(child.waitUntilExit() == .signalled(SIGKILL))
    }

    @Test func outputToAFile_isAppended() throws {
        let path = temporaryPath("child-output", suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        for word in ["one", "two"] {
            let child = try ChildProcess("/bin/echo", [word], output: .file(path))
            #expect(child.waitUntilExit() == .exited(0))
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "one\ntwo\n")
    }

    @Test func missingExecutable_throwsWithTheReason() {
        #expect(throws: ChildProcessError.self) { try ChildProcess("/nonexistent/binary", []) }
    }
}
