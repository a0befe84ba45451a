/// A command line relayd cannot run: the message says what is wrong, and the command's help follows it.
struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
