/// Which way a pump copies.
public enum RelayDirection: Sendable {
    /// Client to backend.
    case upstream
    /// Backend to client.
    case downstream
}
