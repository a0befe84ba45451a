/// The body of a HEARTBEAT: which link it probes, when it left, and what the client measures on that link.
///
/// The server echoes `link` and `timestamp` in its HEARTBEAT_ACK, on the link the heartbeat came from, and the
/// client takes the round-trip time from the echo. The measurements tell the server how the client rates its
/// links, so that its choice of a second link for duplicated replies follows the client's scores.
public struct MultipathHeartbeat: Sendable, Equatable, Hashable {
    /// The client's index of the link, 0–254, in the order of its `links` list.
    public var link: UInt8
    /// The link's state at the client.
    public var health: MultipathLinkHealth
    /// The client's monotonic clock in nanoseconds when it sent the heartbeat; opaque to the server.
    public var timestamp: UInt64
    /// The link's smoothed round-trip time in microseconds; nil before the first answer (0xFFFFFFFF on the wire).
    public var smoothedRTTMicroseconds: UInt32?
    /// The share of the last heartbeats that went unanswered, in hundredths of a percent (0–10,000).
    public var lossBasisPoints: UInt16
    /// The link's score in thousandths (lower is better); nil before the first answer (Int32.min on the wire).
    public var scoreThousandths: Int32?

    /// A heartbeat with these fields.
    public init(link: UInt8, health: MultipathLinkHealth, timestamp: UInt64, smoothedRTTMicroseconds: UInt32? = nil,
                lossBasisPoints: UInt16 = 0, scoreThousandths: Int32? = nil) {
        self.link = link
        self.health = health
        self.timestamp = timestamp
        self.smoothedRTTMicroseconds = smoothedRTTMicroseconds
        self.lossBasisPoints = lossBasisPoints
        self.scoreThousandths = scoreThousandths
    }

    /// The wire value of an unknown RTT.
    static let noRTT = UInt32.max
    /// The wire value of an unknown score.
    static let noScore = Int32.min
}
