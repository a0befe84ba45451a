/// The outcome of a non-blocking call: it did something, or it would have had to block.
@frozen public enum IOResult<Value: Sendable>: Sendable {
    case processed(Value)
    case wouldBlock
}
