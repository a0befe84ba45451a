/// What a listener does with the connections it accepts; the `protocol` key of a listener.
public enum ListenerProtocol: String, Sendable, CaseIterable {
    /// Relays each TCP connection to a server of the listener's backend group.
    case tcp
    /// Writes back whatever it reads, with no backend: a stand-in server for trying relayd out and for tests.
    case echo
}
