@testable import RelayProtocol

/// Keys, ids and frames the multipath tests share.
enum MultipathFixtures {
    /// The test vector's key: bytes 0x00…0x1f.
    static let key = (0..<32).map { UInt8($0) }
    /// Another client's key.
    static let otherKey = (0..<32).map { UInt8(0xA0 + $0) }
    /// The test vector's client id.
    static let clientID = "laptop"

    /// One frame of each kind and direction the format allows, with edge values.
    static let samples: [MultipathFrame] = [
        MultipathFrame(direction: .clientToServer, activeLink: 0, clientID: clientID, session: 0x0102_0304_0506_0708,
                       sequence: 1, body: .data(flow: 7, payload: Array("ping".utf8))),
        MultipathFrame(direction: .clientToServer, replyFanout: .twoBestLinks, activeLink: 254,
                       clientID: String(repeating: "x", count: 64), session: .max, sequence: .max,
                       body: .data(flow: .max, payload: [])),
        MultipathFrame(direction: .clientToServer, replyFanout: .everyLiveLink, clientID: "a.b_c@d-E9", session: 1,
                       sequence: 2, body: .data(flow: 1, payload: (0..<1200).map { UInt8(truncatingIfNeeded: $0) })),
        MultipathFrame(direction: .serverToClient, clientID: clientID, session: 9, sequence: 3,
                       body: .data(flow: 7, payload: Array("pong".utf8))),
        MultipathFrame(direction: .clientToServer, activeLink: 1, clientID: clientID, session: 5, sequence: 4,
                       body: .heartbeat(MultipathHeartbeat(
                           link: 2, health: .up, timestamp: 123_456_789, smoothedRTTMicroseconds: 20_500,
                           lossBasisPoints: 250, scoreThousandths: -12_345))),
        MultipathFrame(direction: .clientToServer, clientID: clientID, session: 5, sequence: 5,
                       body: .heartbeat(MultipathHeartbeat(link: 0, health: .probing, timestamp: 0))),
        MultipathFrame(direction: .clientToServer, clientID: clientID, session: 5, sequence: 6,
                       body: .heartbeat(MultipathHeartbeat(
                           link: 254, health: .down, timestamp: .max, smoothedRTTMicroseconds: UInt32.max - 1,
                           lossBasisPoints: 10_000, scoreThousandths: Int32.max))),
        MultipathFrame(direction: .serverToClient, clientID: clientID, session: 7, sequence: 7,
                       body: .heartbeatAck(MultipathHeartbeatAck(link: 3, echoedTimestamp: 987_654_321))),
    ]
}
