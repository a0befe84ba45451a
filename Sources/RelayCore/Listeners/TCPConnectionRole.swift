/// What a TCP listener does with each admitted connection.
public enum TCPConnectionRole: Sendable {
    /// Relay to a server of the backend group.
    case proxy(BackendGroup)
    /// Send every byte back (the built-in test backend, like nginx stream's `return`).
    case echo
}
