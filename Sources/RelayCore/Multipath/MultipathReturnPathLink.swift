import RelayProtocol

/// One source address a multipath server has heard a client on, as its `MultipathReturnPath` keeps it.
public struct MultipathReturnPathLink<Address: Hashable & Sendable>: Sendable, Equatable {
    /// Where the client's frames came from, and where replies on this link go.
    public let address: Address
    /// The client's index of this link, from the last HEARTBEAT heard here; nil until one is.
    public internal(set) var clientLink: UInt8?
    /// The client's last report on the link (RTT, loss, score, health), from that HEARTBEAT.
    public internal(set) var report: MultipathHeartbeat?
    /// When the first authenticated frame came from here.
    public internal(set) var firstHeard: UInt64
    /// When the last one did.
    public internal(set) var lastHeard: UInt64
    /// Authenticated, fresh frames from here.
    public internal(set) var frames: Int
}
