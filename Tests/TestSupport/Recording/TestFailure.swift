/// An error with a fixed description, so tests can match it in logs and escalation errors.
public struct TestFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}
