/// Errors of a listener, with the address so the operator knows which socket failed.
public struct ListenerError: Error, CustomStringConvertible {
    public let listener: String
    public let address: String
    public let reason: String
    public var description: String { "listener \(listener) on \(address): \(reason)" }
}
