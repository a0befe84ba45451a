import Testing
@testable import RelayProtocol
import TestSupport

/// One session rule at a time, datagram by datagram, with the clock in the test's hand.
@Suite(.computeBound) struct ReliableSessionTests {
    typealias F = ReliableFixtures
    static let ms = ReliableFixtures.millisecond

    /// Hands every datagram to `receiver` at `now`.
    static func deliver(_ datagrams: [ReliableSession.Datagram], to receiver: inout ReliableSession, now: UInt64,
                        from address: ReliablePeerAddress? = nil) -> [ReliableSession.DatagramVerdict] {
        datagrams.map {
            let from = address ?? (receiver.role == .server ? F.clientAddress : F.serverAddress)
            return receiver.handleDatagram($0.bytes, from: from, now: now)
        }
    }

    /// The header of a datagram, for checking what a session sent.
    static func header(_ datagram: ReliableSession.Datagram) -> ReliableHeader? {
        guard case .session(let header, _)? = try? ReliablePacket.decode(datagram.bytes) else { return nil }
        return header
    }

    /// A packet from the client's side with any frame, sealed with the client's key: what a buggy or hostile
    /// but authenticated peer could send.
    static func forged(_ frame: ReliableFrame, number: UInt32, sequence: UInt32 = 0) -> [UInt8] {
        let header = ReliableHeader(type: frame.type, sessionID: F.sessionID, packetNumber: number,
                                    messageSequence: sequence, receiveLimit: 17)
        var bytes = header.encode() + frame.encode() + Array(repeating: 0, count: 16)
        ReliablePacketProtection(key: F.key(1), encrypted: true, direction: .clientToServer,
                                 cryptography: F.cryptography).protect(&bytes, packetNumber: number)
        return bytes
    }

    @Test func aMessageIsDeliveredAndItsAcknowledgementWaitsForTheDelayedAckTimer() throws {
        var (client, server) = F.pair()
        try client.send([1, 2, 3], now: 0)
        let data = F.drain(&client, now: 0)
        #expect(data.count == 1 && Self.header(data[0])?.type == .data && Self.header(data[0])?.messageSequence == 1)
        #expect(data[0].address == F.serverAddress)
        #expect(Self.deliver(data, to: &server, now: 10 * Self.ms) == [.accepted])
        // One packet: the acknowledgement waits up to 25 ms. (The application does not take the message yet:
        // taking it would move the receive limit, which the server announces at once.)
        #expect(F.drain(&server, now: 10 * Self.ms).isEmpty)
        #expect(server.nextTimeout == 35 * Self.ms)
        server.handleTimeout(now: 35 * Self.ms)
        let ack = F.drain(&server, now: 35 * Self.ms)
        #expect(ack.count == 1 && Self.header(ack[0])?.type == .ack && Self.header(ack[0])?.ack == 1)
        #expect(Self.header(ack[0])?.ackDelayMicroseconds == 25_000)
        #expect(server.takeMessage() == [1, 2, 3])
        #expect(server.takeMessage() == nil)
        _ = Self.deliver(ack, to: &client, now: 45 * Self.ms)
        #expect(client.stats.messagesAcknowledged == 1 && client.queuedMessages == 0)
        // 45 ms measured, of which the server says it held 25.
        #expect(client.takeRTTSamples() == [45 * Self.ms])
        #expect(client.takeLatencySamples() == [45 * Self.ms])
        #expect(client.rtt.smoothed == 45 * Self.ms)
    }

    @Test func everySecondPacketIsAcknowledgedAtOnce() throws {
        var (client, server) = F.pair()
        try client.send([1], now: 0)
        try client.send([2], now: 0)
        let data = F.drain(&client, now: 0)
        #expect(data.count == 2)
        _ = Self.deliver([data[0]], to: &server, now: 5 * Self.ms)
        #expect(F.drain(&server, now: 5 * Self.ms).isEmpty)
        _ = Self.deliver([data[1]], to: &server, now: 6 * Self.ms)
        let ack = F.drain(&server, now: 6 * Self.ms)
        #expect(ack.count == 1 && Self.header(ack[0])?.ack == 2 && Self.header(ack[0])?.ackBitfield == 1)
    }

    @Test func aPacketAfterAGapIsAcknowledgedAtOnceAndCountedOutOfOrder() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...3 { try client.send([value], now: 0) }
        let data = F.drain(&client, now: 0)
        _ = Self.deliver([data[2]], to: &server, now: 5 * Self.ms)
        let ack = F.drain(&server, now: 5 * Self.ms)
        #expect(ack.count == 1 && Self.header(ack[0])?.ack == 3 && Self.header(ack[0])?.ackBitfield == 0)
        #expect(server.stats.outOfOrder == 1 && server.takeMessage() == nil)
        _ = Self.deliver([data[0], data[1]], to: &server, now: 6 * Self.ms)
        #expect(F.takeAll(&server) == [[1], [2], [3]])
    }

    @Test func aPacketThreeBehindAnAcknowledgedOneIsRetransmittedAtOnce() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...5 { try client.send([value], now: 0) }
        let data = F.drain(&client, now: 0)
        #expect(data.count == 5)
        // The first is lost; the others arrive.
        _ = Self.deliver(Array(data[1...]), to: &server, now: 20 * Self.ms)
        let acks = F.drain(&server, now: 20 * Self.ms)
        #expect(!acks.isEmpty)
        _ = Self.deliver(acks, to: &client, now: 40 * Self.ms)
        #expect(client.stats.fastRetransmits == 1)
        let resent = F.drain(&client, now: 40 * Self.ms)
        #expect(resent.count == 1)
        #expect(Self.header(resent[0])?.messageSequence == 1 && Self.header(resent[0])?.packetNumber == 6)
        #expect(client.stats.retransmitted == 1)
        _ = Self.deliver(resent, to: &server, now: 60 * Self.ms)
        #expect(F.takeAll(&server) == [[1], [2], [3], [4], [5]])
    }

    @Test func aPacketTwoBehindIsLostOnlyAfterNineEighthsOfTheRTT() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...3 { try client.send([value], now: 0) }
        let data = F.drain(&client, now: 0)
        _ = Self.deliver(Array(data[1...]), to: &server, now: 20 * Self.ms)
        _ = Self.deliver(F.drain(&server, now: 20 * Self.ms), to: &client, now: 40 * Self.ms)
        // Packet 1 is two behind: not lost yet. The RTT is 40 ms, so it is lost at 45 ms after it was sent.
        #expect(client.stats.fastRetransmits == 0 && F.drain(&client, now: 40 * Self.ms).isEmpty)
        #expect(client.nextTimeout == 45 * Self.ms)
        client.handleTimeout(now: 45 * Self.ms)
        #expect(client.stats.fastRetransmits == 1)
        #expect(F.drain(&client, now: 45 * Self.ms).count == 1)
    }

    @Test func theRetransmissionTimeoutResendsAndDoublesUntilAnAcknowledgement() throws {
        var (client, server) = F.pair()
        try client.send([9], now: 0)
        #expect(F.drain(&client, now: 0).count == 1)
        // Nothing comes back. Initial RTO: 333 ms + 4 · 166.5 ms = 999 ms, plus 25 ms of peer ack delay.
        var times: [UInt64] = []
        var now: UInt64 = 0
        var lastResent: [ReliableSession.Datagram] = []
        for _ in 0..<3 {
            let timeout = try #require(client.nextTimeout)
            now = timeout
            client.handleTimeout(now: now)
            lastResent = F.drain(&client, now: now)
            #expect(lastResent.count == 1 && Self.header(lastResent[0])?.messageSequence == 1)
            times.append(now)
        }
        // Each wait is the timeout doubled, plus the 25 ms the peer may hold its acknowledgement.
        let expected: [UInt64] = [1024, 1024 + 1998 + 25, 3047 + 3996 + 25]
        #expect(times == expected.map { $0 * Self.ms })
        #expect(client.stats.timeouts == 3 && client.stats.retransmitted == 3)
        // The fourth copy arrives; the server's acknowledgement ends the back-off.
        _ = Self.deliver(lastResent, to: &server, now: now + 5 * Self.ms)
        server.handleTimeout(now: now + 30 * Self.ms)
        _ = Self.deliver(F.drain(&server, now: now + 30 * Self.ms), to: &client, now: now + 35 * Self.ms)
        #expect(client.rtt.backOffCount == 0 && client.queuedMessages == 0)
        #expect(F.takeAll(&server) == [[9]])
    }

    @Test func aFragmentReceivedTwiceIsDeliveredOnceCountedAndAcknowledgedAtOnce() throws {
        var (client, server) = F.pair()
        try client.send([7], now: 0)
        let first = F.drain(&client, now: 0)
        _ = Self.deliver(first, to: &server, now: 10 * Self.ms)
        // The server's acknowledgement is lost; the client times out and sends the fragment again.
        server.handleTimeout(now: 35 * Self.ms)
        #expect(F.drain(&server, now: 35 * Self.ms).count == 1)
        client.handleTimeout(now: 1024 * Self.ms)
        let again = F.drain(&client, now: 1024 * Self.ms)
        #expect(Self.deliver(again, to: &server, now: 1030 * Self.ms) == [.accepted])
        #expect(server.stats.duplicates == 1)
        #expect(F.drain(&server, now: 1030 * Self.ms).count == 1)
        #expect(F.takeAll(&server) == [[7]])
    }

    @Test func aReplayedDatagramIsDroppedAndCounted() throws {
        var (client, server) = F.pair()
        try client.send([1], now: 0)
        let data = F.drain(&client, now: 0)
        #expect(Self.deliver(data + data + data, to: &server, now: 1) == [.accepted, .replayed, .replayed])
        #expect(server.stats.replayed == 2 && server.stats.duplicates == 0)
        #expect(F.takeAll(&server) == [[1]])
    }

    @Test func forgedCorruptedTruncatedAndStrayDatagramsChangeNothing() throws {
        var (client, server) = F.pair()
        try client.send(Array(repeating: 5, count: 100), now: 0)
        let bytes = F.drain(&client, now: 0)[0].bytes
        var flipped = bytes
        flipped[60] ^= 1
        #expect(server.handleDatagram(flipped, from: F.clientAddress, now: 1) == .badTag)
        var header = bytes
        header[40] ^= 1
        #expect(server.handleDatagram(header, from: F.clientAddress, now: 1) == .badTag)
        for length in 0..<bytes.count {
            let verdict = server.handleDatagram(Array(bytes.prefix(length)), from: F.clientAddress, now: 1)
            #expect(verdict == .malformed || verdict == .badTag, "cut to \(length): \(verdict)")
        }
        var otherSession = bytes
        otherSession[15] ^= 1
        #expect(server.handleDatagram(otherSession, from: F.clientAddress, now: 1) == .wrongSession)
        #expect(server.handleDatagram([1, 2, 3], from: F.clientAddress, now: 1) == .malformed)
        #expect(server.stats.packetsReceived == 0 && server.takeMessage() == nil && !server.isConfirmed)
        // The real one still gets through: a forgery did not burn its packet number.
        #expect(server.handleDatagram(bytes, from: F.clientAddress, now: 2) == .accepted)
        #expect(server.takeMessage()?.count == 100)
    }

    @Test func theSessionMovesToANewAddressOnlyAfterAnAuthenticatedPacketFromIt() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...3 { try client.send([value], now: 0) }
        let data = F.drain(&client, now: 0)
        _ = Self.deliver([data[0]], to: &server, now: 1)
        // A forgery from elsewhere moves nothing.
        var forged = data[1].bytes
        forged[50] ^= 0xFF
        #expect(server.handleDatagram(forged, from: F.movedClientAddress, now: 2) == .badTag)
        #expect(server.peerAddress == F.clientAddress && server.pollEvent() == nil)
        // The client's NAT rebinds: its next packet comes from the new address.
        #expect(server.handleDatagram(data[1].bytes, from: F.movedClientAddress, now: 3) == .accepted)
        #expect(server.peerAddress == F.movedClientAddress)
        #expect(server.pollEvent() == .peerAddressChanged(from: F.clientAddress, to: F.movedClientAddress))
        #expect(server.stats.rebindings == 1)
        let ack = F.drain(&server, now: 3)
        #expect(!ack.isEmpty && ack.allSatisfy { $0.address == F.movedClientAddress })
        // The client hears from the server wherever the server is; its own address is not its business.
        _ = Self.deliver(ack, to: &client, now: 4)
        #expect(client.stats.messagesAcknowledged == 2)
    }

    @Test func aLatePacketFromTheOldAddressDoesNotMoveTheSessionBack() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...2 { try client.send([value], now: 0) }
        let data = F.drain(&client, now: 0)
        _ = Self.deliver([data[1]], to: &server, now: 1, from: F.movedClientAddress)
        #expect(server.peerAddress == F.movedClientAddress)
        _ = Self.deliver([data[0]], to: &server, now: 2, from: F.clientAddress)
        #expect(server.peerAddress == F.movedClientAddress && server.stats.rebindings == 1)
    }

    @Test func aQuietSessionPingsAndAnAbsentPeerTimesOut() throws {
        var (client, server) = F.pair()
        // Nothing to say: the first thing due is the keep-alive, 10 s on.
        #expect(client.nextTimeout == 10 * F.second)
        client.handleTimeout(now: 10 * F.second)
        let ping = F.drain(&client, now: 10 * F.second)
        #expect(ping.count == 1 && Self.header(ping[0])?.type == .ping)
        _ = Self.deliver(ping, to: &server, now: 10 * F.second + Self.ms)
        let pong = F.drain(&server, now: 10 * F.second + Self.ms)
        #expect(pong.count == 1 && Self.header(pong[0])?.type == .pong && Self.header(pong[0])?.ack == 1)
        _ = Self.deliver(pong, to: &client, now: 10 * F.second + 2 * Self.ms)
        #expect(client.takeRTTSamples() == [2 * Self.ms])
        // Now the server vanishes: PINGs every 10 s, then the idle timeout 30 s after the last PONG.
        var now = 10 * F.second + 2 * Self.ms
        var pings = 0
        while !client.isClosed {
            now = try #require(client.nextTimeout)
            client.handleTimeout(now: now)
            for datagram in F.drain(&client, now: now) where Self.header(datagram)?.type == .ping { pings += 1 }
        }
        #expect(pings == 2)
        #expect(now == 40 * F.second + 2 * Self.ms)
        #expect(client.state == .closed(.idleTimeout, byPeer: false))
        #expect(client.pollEvent() == .closed(.idleTimeout, byPeer: false))
        #expect(client.nextTimeout == nil)
    }

    @Test func idleWithDataUnacknowledgedIsARetransmissionTimeout() throws {
        var (client, _) = F.pair()
        try client.send([1], now: 0)
        var now: UInt64 = 0
        var closes: [ReliableHeader] = []
        while !client.isClosed {
            now = try #require(client.nextTimeout)
            client.handleTimeout(now: now)
            closes += F.drain(&client, now: now).compactMap(Self.header).filter { $0.type == .close }
        }
        #expect(client.state == .closed(.retransmissionTimeout, byPeer: false))
        #expect(closes.count == 1)
        #expect(now == 30 * F.second)
    }

    @Test func closeGoesOutTheLateAreAnsweredAndThePeerCloses() throws {
        var (client, server) = F.pair()
        try server.send([1], now: 0)
        let late = F.drain(&server, now: 0)
        client.close(.normal, now: 0)
        #expect(client.pollEvent() == .closed(.normal, byPeer: false))
        #expect(throws: ReliableSession.SendError.closed) { try client.send([1], now: 0) }
        let close = F.drain(&client, now: 0)
        #expect(close.count == 1 && Self.header(close[0])?.type == .close)
        // The server's packet crossed the CLOSE: it is answered with CLOSE again.
        _ = Self.deliver(late, to: &client, now: 1)
        #expect(F.drain(&client, now: 1).count == 1)
        _ = Self.deliver(close, to: &server, now: 2)
        #expect(server.state == .closed(.normal, byPeer: true))
        #expect(server.pollEvent() == .closed(.normal, byPeer: true))
        #expect(F.drain(&server, now: 2).isEmpty && !server.canSend)
        // The client lingers three timeouts, then is closed.
        let until = try #require(client.nextTimeout)
        #expect(until == 3 * client.rtt.timeout)
        client.handleTimeout(now: until)
        #expect(client.state == .closed(.normal, byPeer: false))
    }

    @Test func lateCloseAnswersStopAtTheLimit() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...6 { try server.send([value], now: 0) }
        let late = F.drain(&server, now: 0)
        client.close(now: 0)
        _ = F.drain(&client, now: 0)
        var answers = 0
        for datagram in late {
            _ = client.handleDatagram(datagram.bytes, from: F.serverAddress, now: 1)
            answers += F.drain(&client, now: 1).count
        }
        #expect(answers == 3)
    }

    @Test func finishSendsWhatIsQueuedAndClosesOnceItIsAcknowledged() throws {
        var (client, server) = F.pair()
        for value: UInt8 in 1...3 { try client.send([value], now: 0) }
        client.finish(.shuttingDown, now: 0, deadline: 5 * F.second)
        #expect(throws: ReliableSession.SendError.closed) { try client.send([4], now: 0) }
        #expect(!client.canSend)
        _ = Self.deliver(F.drain(&client, now: 0), to: &server, now: 10 * Self.ms)
        _ = Self.deliver(F.drain(&server, now: 10 * Self.ms), to: &client, now: 20 * Self.ms)
        server.handleTimeout(now: 35 * Self.ms)
        _ = Self.deliver(F.drain(&server, now: 35 * Self.ms), to: &client, now: 45 * Self.ms)
        let close = F.drain(&client, now: 45 * Self.ms)
        #expect(close.compactMap(Self.header).map(\.type) == [.close])
        _ = Self.deliver(close, to: &server, now: 50 * Self.ms)
        #expect(server.state == .closed(.shuttingDown, byPeer: true))
        #expect(F.takeAll(&server) == [[1], [2], [3]])
    }

    @Test func finishGivesUpAtItsDeadline() throws {
        var (client, _) = F.pair()
        try client.send([1], now: 0)
        client.finish(now: 0, deadline: 2 * F.second)
        var now: UInt64 = 0
        while case .finishing = client.state {
            now = try #require(client.nextTimeout)
            client.handleTimeout(now: now)
            _ = F.drain(&client, now: now)
        }
        #expect(now == 2 * F.second)
        #expect(client.pollEvent() == .closed(.normal, byPeer: false))
    }

    @Test func sendRefusesOversizedMessagesAndBlocksWhenTheQueueIsFull() throws {
        var (client, server) = F.pair(configuration: .init(maxQueuedMessages: 3, maxQueuedBytes: 10_000))
        #expect(throws: ReliableSession.SendError.tooLarge) {
            try client.send(Array(repeating: 0, count: 65_508), now: 0)
        }
        try client.send(Array(repeating: 0, count: 65_507), now: 0)
        #expect(!client.canSend)
        #expect(throws: ReliableSession.SendError.wouldBlock) { try client.send([1], now: 0) }
        // Acknowledgements make room again.
        var now: UInt64 = 0
        while client.queuedMessages > 0 {
            _ = Self.deliver(F.drain(&client, now: now), to: &server, now: now + Self.ms)
            now += 30 * Self.ms
            server.handleTimeout(now: now)
            _ = Self.deliver(F.drain(&server, now: now), to: &client, now: now + Self.ms)
        }
        #expect(client.canSend)
        for value: UInt8 in 1...3 { try client.send([value], now: now) }
        #expect(throws: ReliableSession.SendError.wouldBlock) { try client.send([4], now: now) }
        #expect(F.takeAll(&server).map(\.count) == [65_507])
    }

    @Test func theSendWindowCapsDataInFlight() throws {
        var (client, _) = F.pair(configuration: .init(maxInFlight: 4))
        for value: UInt8 in 1...10 { try client.send([value], now: 0) }
        #expect(F.drain(&client, now: 0).count == 4)
        #expect(client.packetsInFlight == 4)
    }

    @Test func theReceiveLimitHoldsTheSenderBackAProbeFindsItAndTakingReopensIt() throws {
        let configuration = ReliableSessionConfiguration(reassembly: .init(window: 16))
        var (client, server) = F.pair(configuration: configuration)
        for value in 0..<40 { try client.send([UInt8(value)], now: 0) }
        let first = F.drain(&client, now: 0)
        #expect(first.count == 16)
        _ = Self.deliver(first, to: &server, now: 10 * Self.ms)
        _ = Self.deliver(F.drain(&server, now: 10 * Self.ms), to: &client, now: 20 * Self.ms)
        #expect(client.packetsInFlight == 0 && F.drain(&client, now: 20 * Self.ms).isEmpty)
        // Blocked with nothing in flight: a probe after a retransmission timeout.
        let probeAt = try #require(client.nextTimeout)
        client.handleTimeout(now: probeAt)
        let probe = F.drain(&client, now: probeAt)
        #expect(probe.compactMap(Self.header).map(\.type) == [.ping])
        _ = Self.deliver(probe, to: &server, now: probeAt + Self.ms)
        let pong = F.drain(&server, now: probeAt + Self.ms)
        #expect(pong.compactMap(Self.header).map(\.receiveLimit) == [17])
        _ = Self.deliver(pong, to: &client, now: probeAt + 2 * Self.ms)
        // The next probe waits twice as long: a PONG is not an open window.
        let nextProbe = try #require(client.nextTimeout)
        #expect(nextProbe - (probeAt + 2 * Self.ms) > 2 * (probeAt - 20 * Self.ms) - 10 * Self.ms)
        // The application takes a quarter window: the server says so at once, and the client sends on.
        for _ in 0..<4 { _ = server.takeMessage() }
        let update = F.drain(&server, now: probeAt + 3 * Self.ms)
        #expect(update.compactMap(Self.header).map(\.receiveLimit) == [21])
        _ = Self.deliver(update, to: &client, now: probeAt + 4 * Self.ms)
        let more = F.drain(&client, now: probeAt + 4 * Self.ms)
        #expect(more.compactMap(Self.header).map(\.messageSequence) == [17, 18, 19, 20])
    }

    @Test func aFragmentThatContradictsItsMessageClosesTheSession() throws {
        var (_, server) = F.pair()
        _ = server.handleDatagram(Self.forged(.data(index: 0, count: 2, bytes: [1]), number: 1, sequence: 1),
                                  from: F.clientAddress, now: 0)
        _ = server.handleDatagram(Self.forged(.data(index: 1, count: 3, bytes: [1]), number: 2, sequence: 1),
                                  from: F.clientAddress, now: 0)
        #expect(server.pollEvent() == .closed(.protocolViolation, byPeer: false))
        #expect(F.drain(&server, now: 0).compactMap(Self.header).map(\.type) == [.close])
    }

    @Test func dataBeyondTheAdvertisedLimitIsDroppedUnacknowledged() throws {
        var (_, server) = F.pair()
        let verdict = server.handleDatagram(Self.forged(.data(index: 0, count: 1, bytes: [1]), number: 1, sequence: 257),
                                            from: F.clientAddress, now: 0)
        #expect(verdict == .accepted)
        #expect(server.stats.windowViolations == 1)
        server.handleTimeout(now: 100 * Self.ms)
        #expect(F.drain(&server, now: 100 * Self.ms).isEmpty)
    }

    @Test func packetNumbersRunningOutCloseTheSession() throws {
        var (client, _) = F.pair()
        client.nextPacketNumber = UInt32.max - ReliableSession.reservedPacketNumbers
        try client.send([1], now: 0)
        try client.send([2], now: 0)
        // One DATA still fits; then only the reserve for CLOSE is left.
        #expect(F.drain(&client, now: 0).compactMap(Self.header).map(\.type) == [.data, .close])
        #expect(client.pollEvent() == .closed(.packetNumbersExhausted, byPeer: false))
    }

    @Test func samplesAreKeptUpToTheLimitAndTheRestCounted() throws {
        var (client, server) = F.pair(configuration: .init(maxSamples: 2))
        var now: UInt64 = 0
        for value: UInt8 in 1...4 {
            try client.send([value], now: now)
            _ = Self.deliver(F.drain(&client, now: now), to: &server, now: now + Self.ms)
            server.handleTimeout(now: now + 26 * Self.ms)
            _ = Self.deliver(F.drain(&server, now: now + 26 * Self.ms), to: &client, now: now + 27 * Self.ms)
            now += 100 * Self.ms
        }
        #expect(client.takeRTTSamples().count == 2)
        #expect(client.takeLatencySamples().count == 2)
        #expect(client.stats.samplesDropped == 4)
    }

    @Test func aBatchOfDatagramsHandledBeforeAPollIsStillAcknowledgedPacketByPacket() throws {
        var (client, server) = F.pair()
        // Eight messages of twelve fragments: 96 packets, handled in one go before the server is polled.
        for value in 0..<8 { try client.send(F.message(value, size: 13_000, side: 0), now: 0) }
        let data = F.drain(&client, now: 0)
        #expect(data.count == 96)
        _ = Self.deliver(data, to: &server, now: 10 * Self.ms)
        let acks = F.drain(&server, now: 10 * Self.ms)
        #expect(acks.count == 6)
        _ = Self.deliver(acks, to: &client, now: 20 * Self.ms)
        #expect(client.stats.messagesAcknowledged == 8 && client.stats.fastRetransmits == 0)
    }
}
