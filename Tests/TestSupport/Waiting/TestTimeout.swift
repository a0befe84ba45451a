import Testing

/// A bounded wait ran out: what the test waited for did not happen in time, or an operation hung.
public struct TestTimeout: Error, CustomStringConvertible {
    /// What the test waited for, in its own words.
    public let what: String
    /// How long it waited.
    public let limit: Duration
    /// Where the wait was written, so the failure points at the line even when the error is only caught at
    /// the end of the test.
    public let sourceLocation: SourceLocation

    public init(what: String, limit: Duration, sourceLocation: SourceLocation) {
        self.what = what
        self.limit = limit
        self.sourceLocation = sourceLocation
    }

    public var description: String {
        "timed out after \(limit) waiting for: \(what) (\(sourceLocation.fileName):\(sourceLocation.line))"
    }
}
