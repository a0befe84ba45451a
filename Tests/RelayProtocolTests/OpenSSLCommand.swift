import Foundation
import Testing
import TestSupport

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
        let result = try ChildProcess.run(try #require(path), arguments, input: input)
        guard result.termination == .exited(0) else {
            throw OpenSSLFailure(arguments: arguments, ending: result.termination,
                                 message: String(decoding: result.error, as: UTF8.self))
        }
        return result.output
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
