/// Back-off bounds for accept failures caused by descriptor or memory shortage.
public struct AcceptBackoff: Sendable {
    public var initial: Duration = .milliseconds(10)
    public var maximum: Duration = .seconds(1)
    public init(initial: Duration = .milliseconds(10), maximum: Duration = .seconds(1)) {
        self.initial = initial
        self.maximum = maximum
    }
}
