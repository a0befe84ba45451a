/// `openssl` exited with a failure.
struct OpenSSLFailure: Error, CustomStringConvertible {
    /// The arguments it ran with.
    let arguments: [String]
    /// Its exit status.
    let status: Int32
    /// What it wrote to standard error.
    let message: String

    var description: String {
        "openssl \(arguments.joined(separator: " ").prefix(200)) exited with \(status): \(message)"
    }
}
