/// One problem in a config: where it is and what is wrong, in words meant for the person editing the file.
public struct ConfigIssue: Sendable, Equatable, CustomStringConvertible {
    /// Where in the config, such as `listeners[0].max_connections` or `backends.web.servers[1]`; empty for a
    /// problem with the file as a whole (unreadable, not JSON5, not an object).
    public var path: String
    /// What was found and what was expected, such as `expected an integer of at least 1, found 0`.
    public var message: String
    /// The 1-based line of the offending key or value, when known, so an editor can jump there.
    public var line: Int?
    /// The 1-based column (in Unicode scalars) that goes with `line`.
    public var column: Int?

    public init(path: String, message: String, line: Int? = nil, column: Int? = nil) {
        self.path = path
        self.message = message
        self.line = line
        self.column = column
    }

    /// `path: message (line L, column C)`, leaving out the parts that are unknown.
    public var description: String {
        var text = path.isEmpty ? message : "\(path): \(message)"
        if let line {
            text += column.map { " (line \(line), column \($0))" } ?? " (line \(line))"
        }
        return text
    }
}
