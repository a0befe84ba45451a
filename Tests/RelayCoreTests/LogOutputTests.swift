import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// `log.output`: the daemon's lines to stderr, stdout or a file that reloads reopen (logrotate renames, then
/// reloads).
@Suite struct LogOutputTests {
    static func read(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    @Test func fileIsAppendedTo_andReopenedAfterARename() throws {
        let path = temporaryPath("relayd-log", suffix: ".log")
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".1")
        }
        try "earlier\n".write(toFile: path, atomically: true, encoding: .utf8)
        let output = LogOutput()
        try output.apply(.file(path))
        output.write("first\n")
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        // Until the reopen, lines follow the renamed file.
        output.write("second\n")
        try output.apply(.file(path))
        output.write("third\n")
        #expect(Self.read(path + ".1") == "earlier\nfirst\nsecond\n")
        #expect(Self.read(path) == "third\n")
    }

    @Test func aFileThatCannotBeOpened_keepsTheOldDestination() throws {
        let path = temporaryPath("relayd-log", suffix: ".log")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let output = LogOutput()
        try output.apply(.file(path))
        #expect(throws: IOError.self) { try output.apply(.file("/nonexistent-directory/relayd.log")) }
        output.write("still here\n")
        #expect(Self.read(path) == "still here\n")
    }

    @Test func configNamesTheTarget() throws {
        func output(_ value: String) throws -> LogOutput.Target {
            try RelayConfig.parse(#"{ listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], log: { output: \#(value) } }"#,
                                  baseDirectory: "/etc/relayd").log.output
        }
        #expect(try output(#""stdout""#) == .standardOutput)
        #expect(try output(#""stderr""#) == .standardError)
        #expect(try output(#""logs/relayd.log""#) == .file("/etc/relayd/logs/relayd.log"))
        #expect(try output(#""/var/log/relayd.log""#) == .file("/var/log/relayd.log"))
        #expect(throws: ConfigError.self) { try output(#""""#) }
        #expect(throws: ConfigError.self) { try output("3") }
    }

    @Test func theDaemonWritesToTheFile_andFollowsARotationOnSIGHUP() async throws {
        let log = temporaryPath("relayd-daemon", suffix: ".log")
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ], log: { output: "\(log)" } }
            """)
        defer {
            for file in [path, log, log + ".1"] { try? FileManager.default.removeItem(atPath: file) }
        }
        try await withRelayd(["serve", "-c", path]) { child in
            try await eventually("the listener line in the log file") { Self.read(log).contains("msg=\"listener ready\"") }
            #expect(!child.text.contains("listener ready"), "lines went to the file, not to stderr")
            try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
            child.signal(SIGHUP)
            try await eventually("the reload line in a fresh file") { Self.read(log).contains("msg=\"config reloaded\"") }
            #expect(Self.read(log + ".1").contains("listener ready"))
            #expect(!Self.read(log + ".1").contains("config reloaded"))
        }
    }

    @Test func anUnwritableOutputStopsTheStartWithAClearError() async throws {
        let path = try temporaryFile("""
            { listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:0" } ],
              log: { output: "/nonexistent-directory/relayd.log" } }
            """)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await runRelayd(["serve", "-c", path])
        #expect(status == 1)
        #expect(output.contains("cannot open log.output /nonexistent-directory/relayd.log"))
    }
}
