/// Why a text exposition is invalid, and where.
public struct PrometheusFormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The 1-based line at fault, so a failing test points straight at the offending output.
    public var line: Int
    /// What is wrong, such as `le 0.5 after le 1 in histogram latency_seconds`.
    public var reason: String

    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }

    /// `line N: reason`.
    public var description: String { "line \(line): \(reason)" }
}
