import TestSupport

/// The `openssl` command failed.
struct OpenSSLFailure: Error, CustomStringConvertible {
    /// The arguments it ran with.
    let arguments: [String]
    /// How it ended: an exit status other than 0, or a signal.
    let ending: ChildTermination
    /// What it wrote to standard error.
    let message: String

    var description: String {
        "openssl \(arguments.joined(separator: " ").prefix(200)) ended with \(ending): \(message)"
    }
}
