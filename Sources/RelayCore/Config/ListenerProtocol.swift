/// What a listener does with the connections it accepts; the `protocol` key of a listener.
public enum ListenerProtocol: String, Sendable, CaseIterable {
    /// Relays each TCP connection to a server of the listener's backend group.
    case tcp
    /// Writes back whatever it reads, with no backend: a stand-in server for trying relayd out and for tests.
    case echo
    /// An HTTP/1.1 gateway: reads each request, routes it by host, path, method and headers, balances every
    /// request over the group's servers on kept-alive connections, and streams bodies both ways (docs in README).
    case http
    /// Relays UDP datagrams: each client address is a flow to one server of the listener's backend group.
    case udp
    /// Gives clients ordered, acknowledged, authenticated sessions over UDP (docs/reliable-udp.md) and relays each
    /// session's messages as plain datagrams to one server of the listener's backend group.
    case reliableUDP = "reliable-udp"
    /// Carries local UDP flows over several links to a multipath-server (docs/multipath.md), choosing and
    /// switching links with its LinkMonitor.
    case multipathClient = "multipath-client"
    /// Receives multipath clients' authenticated frames on every link and relays each client's flows to a
    /// plain-UDP backend group, replying over the client's best link.
    case multipathServer = "multipath-server"

    /// True for the protocols that listen on a TCP port (two listeners may share a port number across
    /// TCP and UDP).
    public var isTCP: Bool { self == .tcp || self == .echo || self == .http }

    /// True for the protocols whose backends are plain UDP servers (probed over UDP by default).
    public var relaysUDP: Bool { self == .udp || self == .reliableUDP }

    /// True for the two ends of the multipath relay.
    public var isMultipath: Bool { self == .multipathClient || self == .multipathServer }
}
