/// Which way a frame travels: bit 0 of the flags byte, and the choice of key that authenticates it.
///
/// Each direction has its own key derived from the client's (see `MultipathKeys`), and the bit is authenticated
/// too, so a frame reflected back at its sender verifies under neither.
public enum MultipathDirection: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// From the multipath client to the multipath server (flag bit 0 clear).
    case clientToServer
    /// From the server back to the client (flag bit 0 set).
    case serverToClient

    /// The other way.
    public var reversed: MultipathDirection {
        self == .clientToServer ? .serverToClient : .clientToServer
    }

    /// "client to server" or "server to client".
    public var description: String {
        self == .clientToServer ? "client to server" : "server to client"
    }
}
