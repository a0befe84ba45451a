/// Byte counts and endings of both directions of a relayed connection.
public struct RelayOutcome: Sendable {
    /// Bytes read from the client and written to the backend.
    public var bytesUp: Int
    /// Bytes read from the backend and written to the client.
    public var bytesDown: Int
    public var up: RelayEnding
    public var down: RelayEnding
}
