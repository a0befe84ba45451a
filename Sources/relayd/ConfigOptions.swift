/// Options shared by the commands that read a configuration.
struct ConfigOptions {
    var path: String?
    var help = false
    /// `probe` only: JSON output.
    var json = false
    /// `probe` only: probes per server.
    var count = 3

    init(_ arguments: ArraySlice<String>, command: String) throws(UsageError) {
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help":
                help = true
            case "--json" where command == "probe":
                json = true
            case "--count" where command == "probe":
                guard let value = rest.popFirst(), let number = Int(value), (1...1000).contains(number) else {
                    throw UsageError("--count needs a number from 1 to 1000")
                }
                count = number
            case "-c", "--config":
                guard let value = rest.popFirst() else { throw UsageError("\(argument) needs a file path") }
                path = value
            default:
                if argument.hasPrefix("--config=") {
                    path = String(argument.dropFirst("--config=".count))
                } else {
                    throw UsageError("unknown option `\(argument)` for `relayd \(command)`")
                }
            }
        }
    }
}
