import Testing
@testable import RelayProtocol
import TestSupport

extension MultipathFixtures {
    /// A client channel and a server channel for `clientID` under `key`.
    static func pair(clientSession: UInt64 = 1_000, serverSession: UInt64 = 2_000, window: Int = 8192)
        -> (client: MultipathChannel, server: MultipathChannel)
    {
        (MultipathChannel(clientID: clientID, key: key, role: .client, session: clientSession, replayWindow: window),
         MultipathChannel(clientID: clientID, key: key, role: .server, session: serverSession, replayWindow: window))
    }
}

/// The authenticated channel end to end: what one end seals the other opens once, and nothing forged, cut,
/// reflected, replayed or duplicated gets through.
@Suite(.computeBound) struct MultipathChannelTests {
    func data(_ text: String, flow: UInt32 = 7) -> MultipathBody {
        .data(flow: flow, payload: Array(text.utf8))
    }

    func delivered(_ result: Result<MultipathAuthenticatedFrame, MultipathDrop>) -> MultipathFrame? {
        try? result.get().frame
    }

    func drop(_ result: Result<MultipathAuthenticatedFrame, MultipathDrop>) -> MultipathDrop? {
        if case .failure(let drop) = result { return drop }
        return nil
    }

    @Test func clientFrame_opensAtTheServer_andServerFrame_atTheClient() throws {
        var (client, server) = MultipathFixtures.pair()
        let up = try client.seal(data("ping"), activeLink: 2, replyFanout: .twoBestLinks)
        let frame = try #require(delivered(server.open(up)))
        #expect(frame.body == data("ping"))
        #expect(frame.activeLink == 2)
        #expect(frame.replyFanout == .twoBestLinks)
        #expect(frame.session == 1_000)
        #expect(frame.sequence == 1)
        let down = try server.seal(data("pong"))
        #expect(delivered(client.open(down))?.body == data("pong"))
        #expect(server.accepted == 1 && client.accepted == 1)
    }

    // Redundancy sends one sealed datagram on two links: the first copy is delivered, the second is counted as
    // a duplicate before any MAC is spent on it.
    @Test func redundantCopy_isDeliveredOnce_andCountedAsDuplicate() throws {
        var (client, server) = MultipathFixtures.pair()
        let datagram = try client.seal(data("once"))
        #expect(delivered(server.open(datagram)) != nil)
        #expect(drop(server.open(datagram)) == .duplicate)
        #expect(drop(server.open(datagram)) == .duplicate)
        #expect(server.filter.duplicates == 2)
        #expect(server.accepted == 1)
    }

    @Test func framesArrivingOutOfOrderAcrossLinks_areAllDeliveredOnce() throws {
        var (client, server) = MultipathFixtures.pair()
        let frames = try (0..<100).map { try client.seal(data("\($0)")) }
        let order = (0..<100).map { ($0 * 37) % 100 }
        for index in order {
            #expect(delivered(server.open(frames[index])) != nil)
        }
        for index in order {
            #expect(drop(server.open(frames[index])) == .duplicate)
        }
    }

    // Flipping any single bit of a frame either breaks its format or its tag; it is never delivered.
    @Test(arguments: [0, 4])
    func everyBitFlip_isDropped(sampleIndex: Int) throws {
        var (client, _) = MultipathFixtures.pair()
        let frame = MultipathFixtures.samples[sampleIndex]
        let datagram = try client.seal(frame.body, activeLink: frame.activeLink)
        for bit in 0..<(datagram.count * 8) {
            var (_, server) = MultipathFixtures.pair()
            var forged = datagram
            forged[bit / 8] ^= 1 << UInt8(bit % 8)
            let result = server.open(forged)
            #expect(delivered(result) == nil, "bit \(bit)")
            #expect(server.filter.session == 0, "a forged frame moved the window (bit \(bit))")
        }
    }

    // A DATA frame cut anywhere may still parse (as a shorter payload), but its tag no longer matches.
    @Test func everyTruncationOfADataFrame_isDropped() throws {
        var (client, _) = MultipathFixtures.pair()
        let datagram = try client.seal(data("a payload of some length"))
        for length in 0..<datagram.count {
            var (_, server) = MultipathFixtures.pair()
            let result = server.open(Array(datagram.prefix(length)))
            #expect(drop(result) != nil, "length \(length)")
        }
        var (_, server) = MultipathFixtures.pair()
        #expect(drop(server.open(datagram + [0])) == .badTag)
        #expect(server.badTags == 1)
    }

    @Test func frameUnderAnotherKey_hasABadTag() throws {
        var forger = MultipathChannel(clientID: MultipathFixtures.clientID, key: MultipathFixtures.otherKey,
                                      role: .client, session: 1_000)
        var (_, server) = MultipathFixtures.pair()
        let forged = try forger.seal(data("let me in"))
        #expect(drop(server.open(forged)) == .badTag)
        // The forgery did not record its sequence: the real frame with the same number still gets through.
        var (client, _) = MultipathFixtures.pair()
        #expect(delivered(server.open(try client.seal(data("real")))) != nil)
    }

    @Test func frameForAnotherClient_isUnknown() throws {
        var other = MultipathChannel(clientID: "phone", key: MultipathFixtures.key, role: .client, session: 1)
        var (_, server) = MultipathFixtures.pair()
        #expect(drop(server.open(try other.seal(data("hi")))) == .unknownClient)
        #expect(server.unknownClient == 1)
    }

    // A frame sent back at its sender (a reflection) travels the wrong way and is refused before its tag.
    @Test func reflectedFrame_isRefusedAsWrongDirection() throws {
        var (client, server) = MultipathFixtures.pair()
        let up = try client.seal(data("up"))
        #expect(drop(client.open(up)) == .wrongDirection)
        let down = try server.seal(data("down"))
        #expect(drop(server.open(down)) == .wrongDirection)
        #expect(client.wrongDirection == 1 && server.wrongDirection == 1)
    }

    // The client restarts: its new session (a later wall clock) starts over at sequence 1 and is accepted;
    // frames recorded from the old run are stale from then on.
    @Test func restartedSender_isAccepted_andItsOldFramesAreStale() throws {
        var (oldClient, server) = MultipathFixtures.pair(clientSession: 1_000)
        let recorded = try (0..<3).map { _ in try oldClient.seal(data("old")) }
        #expect(delivered(server.open(recorded[0])) != nil)
        var newClient = MultipathChannel(clientID: MultipathFixtures.clientID, key: MultipathFixtures.key,
                                         role: .client, session: 5_000)
        let fresh = try newClient.seal(data("new"))
        #expect(delivered(server.open(fresh))?.sequence == 1)
        #expect(drop(server.open(recorded[1])) == .staleSession)
        #expect(drop(server.open(recorded[2])) == .staleSession)
        #expect(server.filter.staleSessions == 2)
        #expect(server.filter.sessionsStarted == 2)
    }

    @Test func sequenceFarBehindTheWindow_isTooOld() throws {
        var (client, server) = MultipathFixtures.pair(window: 64)
        let early = try client.seal(data("early"))
        for _ in 0..<64 { _ = try client.seal(data("skipped")) }
        #expect(delivered(server.open(try client.seal(data("late")))) != nil)
        #expect(drop(server.open(early)) == .tooOld)
        #expect(server.filter.tooOld == 1)
    }

    @Test func oversizedPayload_throwsAndSkipsItsSequence() throws {
        var (client, server) = MultipathFixtures.pair()
        let tooBig = [UInt8](repeating: 1, count: MultipathWire.maxPayload(clientIDLength: 6) + 1)
        #expect(throws: MultipathFrameError.self) { try client.seal(.data(flow: 1, payload: tooBig)) }
        #expect(delivered(server.open(try client.seal(data("next"))))?.sequence == 2)
    }

    @Test func exhaustedSequences_openTheNextSession() {
        var sequencer = MultipathSequencer(session: 41)
        #expect(sequencer.next() == (41, 1))
        sequencer = MultipathSequencer(session: 41, lastSequence: .max - 1)
        #expect(sequencer.next() == (41, .max))
        #expect(sequencer.next() == (42, 1))
        #expect(MultipathSequencer(session: 0).session == 1)
    }
}

/// The replay filter alone: check is pure, screen counts, insert moves the window.
@Suite struct MultipathReplayFilterTests {
    @Test func screenBeforeInsert_keepsTheWindowUntouched() {
        var filter = MultipathReplayFilter(windowSize: 64)
        #expect(filter.screen(session: 3, sequence: 10) == .fresh)
        #expect(filter.session == 0)
        #expect(filter.insert(session: 3, sequence: 10) == .fresh)
        #expect(filter.screen(session: 3, sequence: 10) == .duplicate)
        #expect(filter.screen(session: 2, sequence: 99) == .staleSession)
        #expect(filter.insert(session: 3, sequence: 80) == .fresh)
        #expect(filter.screen(session: 3, sequence: 10) == .tooOld)
        #expect(filter.screen(session: 3, sequence: 17) == .fresh)
        #expect((filter.duplicates, filter.staleSessions, filter.tooOld) == (1, 1, 1))
    }

    @Test func newerSession_startsWithAnEmptyWindow() {
        var filter = MultipathReplayFilter(windowSize: 64)
        filter.insert(session: 3, sequence: 5)
        #expect(filter.insert(session: 4, sequence: 5) == .fresh)
        #expect(filter.check(session: 4, sequence: 4) == .fresh)
        #expect(filter.check(session: 3, sequence: 6) == .staleSession)
        #expect(filter.sessionsStarted == 2)
    }
}
