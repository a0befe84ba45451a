import Foundation
import Testing

/// The `openssl` command-line tool, which the differential tests check our primitives against.
enum OpenSSLCommand {
    /// Where `openssl` is on the PATH, or nil when it is not installed.
    static let path: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        .map { "\($0)/openssl" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Whether the tests can run `openssl`.
    static var isAvailable: Bool { path != nil }

    /// The reason shown when the differential tests are skipped.
    static let missing: Comment = "openssl is not installed (Debian package openssl); differential tests skipped"

    /// What `openssl arguments…` writes to standard output when given `input` on standard input. Throws when
    /// it exits with a failure, with what it wrote to standard error.
    static func run(_ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(path))
        process.arguments = arguments
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Inputs stay far below a pipe's 64 KiB, so writing everything before reading cannot block.
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OpenSSLFailure(arguments: arguments, status: process.terminationStatus,
                                 message: String(decoding: errors, as: UTF8.self))
        }
        return [UInt8](output)
    }

    /// The bytes of the hex that `openssl` printed: the text after the last "= " (as `dgst` prints it) or all of
    /// it (as `mac` and `kdf` do), with colons and the newline dropped.
    static func runHex(_ arguments: [String], input: [UInt8] = []) throws -> [UInt8] {
        var text = String(decoding: try run(arguments, input: input), as: UTF8.self)
        if let equals = text.range(of: "= ", options: .backwards) {
            text = String(text[equals.upperBound...])
        }
        return [UInt8](hex: text)
    }
}
