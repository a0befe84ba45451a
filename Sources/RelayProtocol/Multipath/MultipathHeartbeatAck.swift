/// The body of a HEARTBEAT_ACK: the link and timestamp of the heartbeat it answers, echoed unchanged.
public struct MultipathHeartbeatAck: Sendable, Equatable, Hashable {
    /// The link index the heartbeat carried.
    public var link: UInt8
    /// The heartbeat's timestamp: the client's clock when it sent it.
    public var echoedTimestamp: UInt64

    /// An acknowledgement of the heartbeat sent on `link` at `echoedTimestamp`.
    public init(link: UInt8, echoedTimestamp: UInt64) {
        self.link = link
        self.echoedTimestamp = echoedTimestamp
    }

    /// The acknowledgement of `heartbeat`.
    public init(answering heartbeat: MultipathHeartbeat) {
        self.init(link: heartbeat.link, echoedTimestamp: heartbeat.timestamp)
    }
}
