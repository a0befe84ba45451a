import RelayProtocol
import Testing
@testable import RelayCore

/// The server's return path for one client, fed the way the server's receive path feeds it: each datagram is
/// opened by the client's channel, and only an authenticated, fresh frame reaches `record`.
@Suite struct MultipathReturnPathTests {
    static let key = (0..<32).map { UInt8($0 * 3) }

    /// A client, the server's channel for it, and the server's return path, with addresses as strings.
    struct Harness {
        var client = MultipathChannel(clientID: "laptop", key: MultipathReturnPathTests.key, role: .client,
                                      session: 10)
        var server = MultipathChannel(clientID: "laptop", key: MultipathReturnPathTests.key, role: .server,
                                      session: 20)
        var path = MultipathReturnPath<String>()
        var changes: [MultipathReturnPathChange<String>] = []

        /// A heartbeat the client seals for `link`, naming `active` as its active link.
        mutating func heartbeat(link: UInt8, active: UInt8?, score: Int32? = nil,
                                health: MultipathLinkHealth = .up) throws -> [UInt8] {
            try client.seal(.heartbeat(MultipathHeartbeat(link: link, health: health, timestamp: 1,
                                                          smoothedRTTMicroseconds: 1_000, scoreThousandths: score)),
                            activeLink: active)
        }

        /// A DATA frame the client seals, naming `active` as its active link.
        mutating func data(active: UInt8?, fanout: MultipathReplyFanout = .oneLink) throws -> [UInt8] {
            try client.seal(.data(flow: 1, payload: [1, 2, 3]), activeLink: active, replyFanout: fanout)
        }

        /// The server receives `datagram` from `address` at `now` (ms): opened, and recorded only if accepted.
        @discardableResult
        mutating func arrive(_ datagram: [UInt8], from address: String, at now: UInt64 = 0) -> MultipathDrop? {
            switch server.open(datagram) {
            case .success(let frame):
                if let change = path.record(frame, from: address, now: ms(now)) { changes.append(change) }
                return nil
            case .failure(let drop):
                return drop
            }
        }
    }

    /// Links 0 and 1 heard at A and B, the client sending on link 0.
    func started() throws -> Harness {
        var harness = Harness()
        harness.arrive(try harness.heartbeat(link: 0, active: 0), from: "A")
        harness.arrive(try harness.heartbeat(link: 1, active: 0), from: "B")
        return harness
    }

    @Test func firstAuthenticatedFrame_setsTheReturnPath() throws {
        var harness = Harness()
        harness.arrive(try harness.data(active: 0), from: "A")
        #expect(harness.path.current == "A")
        #expect(harness.changes == [MultipathReturnPathChange(from: nil, to: "A", reason: .lastHeard)])
        harness.arrive(try harness.heartbeat(link: 0, active: 0), from: "A")
        #expect(harness.path.links.first?.clientLink == 0)
        #expect(harness.path.current == "A")
    }

    // The client moved to link 1: its very next frame says so, and the return path follows at that frame.
    @Test func switchesOnTheFirstAuthenticatedFrameFromTheBetterLink() throws {
        var harness = try started()
        #expect(harness.path.current == "A")
        harness.arrive(try harness.data(active: 1), from: "B", at: 5)
        #expect(harness.path.current == "B")
        #expect(harness.changes.last == MultipathReturnPathChange(from: "A", to: "B", reason: .clientChoice(link: 1)))
        #expect(harness.path.switchCount == 2)
    }

    // Forged frames (a real one with its active-link byte changed, or one under another key), and recorded
    // frames replayed from another address, are dropped by the channel and never move the return path.
    @Test func neverSwitchesOnAnUnauthenticatedOrReplayedFrame() throws {
        var harness = try started()
        var tampered = try harness.data(active: 0)
        tampered[7] = 1
        #expect(harness.arrive(tampered, from: "B") == .badTag)
        #expect(harness.arrive(tampered, from: "evil") == .badTag)
        var forger = MultipathChannel(clientID: "laptop", key: Array(repeating: 7, count: 32), role: .client,
                                      session: 99)
        #expect(harness.arrive(try forger.seal(.data(flow: 1, payload: []), activeLink: 1), from: "evil") == .badTag)
        let recorded = try harness.data(active: 1)
        harness.arrive(recorded, from: "B")
        #expect(harness.path.current == "B")
        #expect(harness.arrive(recorded, from: "evil") == .duplicate)
        #expect(harness.arrive(try harness.heartbeat(link: 0, active: 0), from: "A") == nil)
        let switchesBefore = harness.path.switchCount
        #expect(harness.arrive(recorded, from: "B") == .duplicate)
        #expect(harness.path.current == "A")
        #expect(harness.path.switchCount == switchesBefore)
        #expect(!harness.path.links.contains { $0.address == "evil" })
    }

    // Frame 1 (sent on link 0) lags on a slow path behind frame 2 (after the switch to link 1): the late frame is
    // delivered, but its older announcement does not move the return path back.
    @Test func lateCopyOfAnOlderFrame_doesNotMoveThePathBack() throws {
        var harness = try started()
        let older = try harness.data(active: 0)
        let newer = try harness.data(active: 1)
        harness.arrive(newer, from: "B")
        #expect(harness.arrive(older, from: "A") == nil)
        #expect(harness.path.current == "B")
        #expect(harness.path.announcedLink == 1)
    }

    // Link 1's NAT mapping changes: its next heartbeat comes from B2, which takes link 1 over from B.
    @Test func heartbeatFromANewAddress_movesTheClientsLinkThere() throws {
        var harness = try started()
        harness.arrive(try harness.data(active: 1), from: "B")
        harness.arrive(try harness.heartbeat(link: 1, active: 1), from: "B2")
        #expect(harness.path.current == "B2")
        #expect(harness.path.links.first { $0.address == "B" }?.clientLink == nil)
    }

    // A client that names no active link: the return path goes to the best score it reports, and moves on the
    // first heartbeat that makes another link better.
    @Test func withoutAnActiveLink_followsTheReportedScores() throws {
        var harness = Harness()
        harness.arrive(try harness.heartbeat(link: 0, active: nil, score: 50_000), from: "A")
        harness.arrive(try harness.heartbeat(link: 1, active: nil, score: 20_000), from: "B")
        #expect(harness.path.current == "B")
        #expect(harness.changes.last?.reason == .bestReportedScore)
        harness.arrive(try harness.heartbeat(link: 0, active: nil, score: 10_000), from: "A")
        #expect(harness.path.current == "A")
        harness.arrive(try harness.heartbeat(link: 0, active: nil, score: 1_000, health: .down), from: "A")
        #expect(harness.path.current == "B")
    }

    @Test func replies_goOnAsManyLinksAsTheClientAsks() throws {
        var harness = Harness()
        harness.arrive(try harness.heartbeat(link: 0, active: 0, score: 10_000), from: "A")
        harness.arrive(try harness.heartbeat(link: 1, active: 0, score: 90_000), from: "B")
        harness.arrive(try harness.heartbeat(link: 2, active: 0, score: 30_000), from: "C")
        harness.arrive(try harness.heartbeat(link: 3, active: 0, score: 5_000, health: .down), from: "D")
        #expect(harness.path.replyTargets == ["A"])
        harness.arrive(try harness.data(active: 0, fanout: .twoBestLinks), from: "A")
        #expect(harness.path.replyTargets == ["A", "C"])
        harness.arrive(try harness.data(active: 0, fanout: .everyLiveLink), from: "A")
        #expect(harness.path.replyTargets == ["A", "C", "B", "D"])
    }

    @Test func linksUnheardForTheTimeout_areForgotten() throws {
        var harness = Harness()
        harness.arrive(try harness.heartbeat(link: 0, active: 0), from: "A", at: 0)
        harness.arrive(try harness.heartbeat(link: 1, active: 0), from: "B", at: 4_000)
        #expect(harness.path.nextExpiry == ms(10_000))
        #expect(harness.path.expire(now: ms(9_999)) == nil)
        #expect(harness.path.expire(now: ms(10_000)) == MultipathReturnPathChange(from: "A", to: "B", reason: .lastHeard))
        #expect(harness.path.links.map(\.address) == ["B"])
        #expect(harness.path.expire(now: ms(14_000))
            == MultipathReturnPathChange(from: "B", to: nil, reason: .allLinksExpired))
        #expect(harness.path.replyTargets.isEmpty)
    }
}
