/// What a listener does with the connections it accepts; the `protocol` key of a listener.
public enum ListenerProtocol: String, Sendable, CaseIterable {
    /// Relays each TCP connection to a server of the listener's backend group.
    case tcp
    /// Writes back whatever it reads, with no backend: a stand-in server for trying relayd out and for tests.
    case echo
    /// Relays UDP datagrams: each client address is a flow to one server of the listener's backend group.
    case udp
    /// Carries local UDP flows over several links to a multipath-server (docs/multipath.md), choosing and
    /// switching links with its LinkMonitor.
    case multipathClient = "multipath-client"
    /// Receives multipath clients' authenticated frames on every link and relays each client's flows to a
    /// plain-UDP backend group, replying over the client's best link.
    case multipathServer = "multipath-server"

    /// True for the protocols that listen on a TCP port (two listeners may share a port number across
    /// TCP and UDP).
    public var isTCP: Bool { self == .tcp || self == .echo }

    /// True for the two ends of the multipath relay.
    public var isMultipath: Bool { self == .multipathClient || self == .multipathServer }
}
