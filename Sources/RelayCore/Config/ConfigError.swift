/// Everything wrong with a config, reported at once so a single round of edits can fix it all.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The problems in the order they appear in the file (problems without a known position come last).
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    /// A config error with one problem.
    public init(path: String, message: String) {
        self.init(issues: [ConfigIssue(path: path, message: message)])
    }

    /// One line per issue, `path: message (line L, column C)`.
    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
