/// What a TCP listener does with each admitted connection.
public enum TCPConnectionRole: Sendable {
    /// Relay to a server of the backend group.
    case proxy(BackendGroup)
    /// Relay to the group of the first route the connection matches, or to the listener's own (`routes`).
    case routed(ListenerRoutes)
    /// Read HTTP requests and forward each to a server picked for it (`protocol: "http"`).
    case http(HTTPGateway)
    /// Send every byte back (the built-in test backend, like nginx stream's `return`).
    case echo
}
