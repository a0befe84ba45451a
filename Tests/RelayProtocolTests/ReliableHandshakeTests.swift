import Testing
@testable import RelayProtocol
import TestSupport

/// The handshake end to end: keys agree only under the same pre-shared key, the server stores nothing and
/// never answers with more than it got, and replays, stale cookies and garbage get nowhere.
@Suite(.computeBound) struct ReliableHandshakeTests {
    typealias F = ReliableFixtures
    static let ms = ReliableFixtures.millisecond
    static let keys = ["alice": F.key(1), "bob": F.key(2)]
    static let nonce = (0..<32).map { UInt8(200 &- $0) }

    static func server(parameters: ReliableSessionParameters = .init(), maxRecent: Int = 65_536)
        -> ReliableServerHandshake
    {
        ReliableServerHandshake(
            configuration: .init(parameters: parameters, maxRecentHandshakes: maxRecent), keys: keys,
            secret: F.key(90), cryptography: F.cryptography, now: 0)
    }

    static func client(id: String = "alice", key: [UInt8] = F.key(1), nonce: [UInt8] = nonce,
                       configuration: ReliableClientHandshake.Configuration = .init()) -> ReliableClientHandshake {
        ReliableClientHandshake(clientID: id, key: key, clientNonce: nonce, serverAddress: F.serverAddress,
                                configuration: configuration, cryptography: F.cryptography)
    }

    /// HELLO → CHALLENGE → RESPONSE, returning the RESPONSE.
    static func response(_ client: inout ReliableClientHandshake, _ server: inout ReliableServerHandshake,
                         from address: ReliablePeerAddress = F.clientAddress) throws -> [UInt8] {
        let hello = client.start(now: 0)
        guard case .challenge(let challenge) = server.handle(hello, from: address) else {
            throw HandshakeTestError.unexpected("no CHALLENGE")
        }
        guard case .send(let response) = client.handleDatagram(challenge, now: 20 * ms) else {
            throw HandshakeTestError.unexpected("no RESPONSE")
        }
        return response
    }

    enum HandshakeTestError: Error { case unexpected(String) }

    @Test func theSameKeyGivesBothSidesTheSameSessionAndItCarriesMessages() throws {
        var server = Self.server(parameters: .init(encrypted: true, maxPacketSize: 1400, idleTimeoutMilliseconds: 20_000))
        var client = Self.client()
        let hello = client.start(now: 0)
        #expect(hello.count == 1200)
        guard case .challenge(let challenge) = server.handle(hello, from: F.clientAddress) else {
            Issue.record("no CHALLENGE")
            return
        }
        #expect(challenge.count == 90)
        guard case .send(let response) = client.handleDatagram(challenge, now: 20 * Self.ms) else {
            Issue.record("no RESPONSE")
            return
        }
        guard case .established(let serverSetup, let welcome) = server.handle(response, from: F.clientAddress) else {
            Issue.record("not established")
            return
        }
        #expect(welcome.count == 69 && welcome.count <= response.count)
        guard case .established(let clientSetup) = client.handleDatagram(welcome, now: 40 * Self.ms) else {
            Issue.record("the client did not accept the WELCOME")
            return
        }
        #expect(clientSetup.sessionID == serverSetup.sessionID)
        #expect(clientSetup.clientToServerKey == serverSetup.clientToServerKey)
        #expect(clientSetup.serverToClientKey == serverSetup.serverToClientKey)
        #expect(clientSetup.clientToServerKey != clientSetup.serverToClientKey)
        #expect(clientSetup.clientToServerKey.count == 32)
        #expect(clientSetup.parameters == serverSetup.parameters && clientSetup.parameters.maxPacketSize == 1400)
        #expect(clientSetup.handshakeRTT == 20 * Self.ms)
        #expect(serverSetup.clientID == "alice" && serverSetup.peerAddress == F.clientAddress)
        #expect(client.nextTimeout == nil)

        var clientSession = ReliableSession(setup: clientSetup, cryptography: F.cryptography, now: 40 * Self.ms)
        var serverSession = ReliableSession(setup: serverSetup, cryptography: F.cryptography, now: 40 * Self.ms)
        try clientSession.send(Array("hello, backend".utf8), now: 40 * Self.ms)
        for datagram in F.drain(&clientSession, now: 40 * Self.ms) {
            #expect(serverSession.handleDatagram(datagram.bytes, from: F.clientAddress, now: 50 * Self.ms) == .accepted)
        }
        #expect(serverSession.takeMessage() == Array("hello, backend".utf8))
        #expect(serverSession.isConfirmed)
    }

    @Test func twoHandshakesOfOneClientGetDifferentSessionsAndKeys() throws {
        var server = Self.server()
        var first = Self.client()
        var second = Self.client(nonce: Array(Self.nonce.reversed()))
        guard case .established(let a, _) = server.handle(try Self.response(&first, &server), from: F.clientAddress),
            case .established(let b, _) = server.handle(try Self.response(&second, &server), from: F.clientAddress)
        else {
            Issue.record("not established")
            return
        }
        #expect(a.sessionID != b.sessionID && a.clientToServerKey != b.clientToServerKey)
    }

    @Test func aWrongKeyIsRefusedAsBadAuthAndTheClientGivesUp() throws {
        var server = Self.server()
        var client = Self.client(key: F.key(7))
        let response = try Self.response(&client, &server)
        guard case .refuse(.badAuth, let refusal) = server.handle(response, from: F.clientAddress) else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.count == 26 && refusal.count <= response.count)
        #expect(client.handleDatagram(refusal, now: 40 * Self.ms) == .failed(.refused(.badAuth, retryAfterSeconds: 0)))
        #expect(client.nextTimeout == nil)
    }

    @Test func anUnknownClientIdIsRefusedExactlyLikeAWrongKey() throws {
        var server = Self.server()
        var stranger = Self.client(id: "mallory", key: F.key(1))
        var wrong = Self.client(id: "alice", key: F.key(8))
        guard case .refuse(let reasonA, let a) = server.handle(try Self.response(&stranger, &server), from: F.clientAddress),
            case .refuse(let reasonB, let b) = server.handle(try Self.response(&wrong, &server), from: F.clientAddress)
        else {
            Issue.record("not refused")
            return
        }
        #expect(reasonA == .badAuth && reasonB == .badAuth && a == b)
    }

    @Test func aReplayedResponseNeverMakesASecondSession() throws {
        var server = Self.server()
        var client = Self.client()
        let response = try Self.response(&client, &server)
        guard case .established(let setup, let welcome) = server.handle(response, from: F.clientAddress) else {
            Issue.record("not established")
            return
        }
        // Again from the same address: the same WELCOME, for the listener to resend if the first was lost.
        #expect(server.handle(response, from: F.clientAddress) == .repeated(sessionID: setup.sessionID, welcome: welcome))
        #expect(server.recentHandshakes == 1)
        // From anywhere else, the cookie fails and there is no answer at all.
        #expect(server.handle(response, from: F.movedClientAddress) == .drop(.badCookie))
        // And once the cookie is too old, it is refused outright.
        server.rotate(secret: F.key(91), now: 120 * F.second)
        #expect(server.handle(response, from: F.clientAddress) == .repeated(sessionID: setup.sessionID, welcome: welcome))
        server.rotate(secret: F.key(92), now: 240 * F.second)
        guard case .refuse(.expiredCookie, _) = server.handle(response, from: F.clientAddress) else {
            Issue.record("a stale replay was not refused")
            return
        }
        #expect(server.recentHandshakes == 0)
    }

    @Test func aCookieOfThePreviousSecretIsAcceptedAndAnOlderOneRefused() throws {
        var server = Self.server()
        var client = Self.client()
        let response = try Self.response(&client, &server)
        server.rotate(secret: F.key(91), now: 120 * F.second)
        #expect(server.epoch == 1 && server.nextRotation == 240 * F.second)
        var copy = server
        guard case .established = copy.handle(response, from: F.clientAddress) else {
            Issue.record("a cookie of the previous epoch was not accepted")
            return
        }
        server.rotate(secret: F.key(92), now: 240 * F.second)
        guard case .refuse(.expiredCookie, let refusal) = server.handle(response, from: F.clientAddress) else {
            Issue.record("an old cookie was not refused")
            return
        }
        // The client starts over with a new HELLO, and gets through with a fresh cookie.
        guard case .send(let hello) = client.handleDatagram(refusal, now: 300 * Self.ms),
            case .hello? = try? ReliablePacket.decode(hello)
        else {
            Issue.record("the client did not start over")
            return
        }
        guard case .challenge(let challenge) = server.handle(hello, from: F.clientAddress),
            case .send(let fresh) = client.handleDatagram(challenge, now: 320 * Self.ms),
            case .established(_, let welcome) = server.handle(fresh, from: F.clientAddress),
            case .established = client.handleDatagram(welcome, now: 340 * Self.ms)
        else {
            Issue.record("the second attempt failed")
            return
        }
    }

    @Test func aCookieFromTheFutureOrForgedGetsNoReply() throws {
        var server = Self.server()
        var client = Self.client()
        var response = try Self.response(&client, &server)
        // The epoch sits after nonce, id length and "alice".
        let epochOffset = 6 + 32 + 1 + 5
        var future = response
        future[epochOffset + 3] = 9
        #expect(server.handle(future, from: F.clientAddress) == .drop(.badCookie))
        response[epochOffset + 4] ^= 1
        #expect(server.handle(response, from: F.clientAddress) == .drop(.badCookie))
    }

    @Test func noReplyIsEverLargerThanTheDatagramItAnswers() throws {
        var server = Self.server()
        for size in [128, 129, 200, 1200, 1500] {
            var client = Self.client(configuration: .init(helloSize: size))
            let hello = client.start(now: 0)
            #expect(hello.count == size)
            for accepting in [true, false] {
                switch server.handle(hello, from: F.clientAddress, acceptingSessions: accepting) {
                case .challenge(let reply), .refuse(_, let reply):
                    #expect(reply.count <= hello.count)
                default:
                    Issue.record("HELLO of \(size) bytes got no reply")
                }
            }
            for reason in ReliableRefusalReason.allCases {
                #expect((server.refusal(answering: hello, reason: reason)?.count ?? 0) <= hello.count)
            }
        }
        // The smallest RESPONSE (a one-letter id) and each of its replies.
        var server2 = ReliableServerHandshake(keys: ["a": F.key(5)], secret: F.key(90), cryptography: F.cryptography,
                                              now: 0)
        for key in [F.key(5), F.key(6)] {
            var client = Self.client(id: "a", key: key)
            let response = try Self.response(&client, &server2)
            #expect(response.count == ReliableResponse.minSize)
            switch server2.handle(response, from: F.clientAddress) {
            case .established(_, let reply), .refuse(_, let reply), .repeated(_, let reply):
                #expect(reply.count <= response.count)
            default:
                Issue.record("no reply")
            }
        }
    }

    @Test func garbageOfEveryLengthGetsNoReply() {
        var server = Self.server()
        var random = HTTPFuzzRandom(seed: 0x6A4B)
        for length in 1...1500 {
            var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if bytes.count >= 4, ReliableWire.hasMagic(bytes) { bytes[0] = 0 }
            guard case .drop = server.handle(bytes, from: F.clientAddress) else {
                Issue.record("\(length) random bytes got a reply")
                continue
            }
            // With our magic and version but a type that is not HELLO or RESPONSE, or random fields.
            var ours = bytes
            if ours.count >= 6 {
                ours.replaceSubrange(0..<4, with: ReliableWire.magic)
                ours[4] = 1
                ours[5] = [0, 2, 4, 5, 6, 16, 17, 18, 19, 20, 99][length % 11]
                guard case .drop = server.handle(ours, from: F.clientAddress) else {
                    Issue.record("\(length) bytes of type \(ours[5]) got a reply")
                    continue
                }
            }
        }
        // Every truncation of a valid HELLO and RESPONSE, and a HELLO of another version under 128 bytes.
        var client = Self.client()
        let hello = client.start(now: 0)
        for length in 0..<ReliableWire.minHelloSize {
            guard case .drop = server.handle(Array(hello.prefix(length)), from: F.clientAddress) else {
                Issue.record("a HELLO cut to \(length) bytes got a reply")
                continue
            }
        }
        if case .challenge(let challenge) = server.handle(hello, from: F.clientAddress),
            case .send(let response) = client.handleDatagram(challenge, now: 1)
        {
            for length in 0..<response.count {
                guard case .drop = server.handle(Array(response.prefix(length)), from: F.clientAddress) else {
                    Issue.record("a RESPONSE cut to \(length) bytes got a reply")
                    continue
                }
            }
        }
        var old = Array(hello.prefix(127))
        old[4] = 2
        #expect(server.handle(old, from: F.clientAddress) == .drop(.garbage))
        #expect(server.recentHandshakes == 0)
    }

    @Test func aHelloOfAnotherVersionIsRefusedWithOursAndTheClientSaysWhy() {
        var server = Self.server()
        var client = Self.client()
        var hello = client.start(now: 0)
        hello[4] = 2
        guard case .refuse(.unsupportedVersion, let refusal) = server.handle(hello, from: F.clientAddress) else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.count == 26 && refusal[4] == 1 && refusal[23] == 1)
        #expect(client.handleDatagram(refusal, now: 1) == .failed(.unsupportedVersion(highestVersion: 1)))
    }

    @Test func aFullServerRefusesHelloAndAValidResponse() throws {
        var server = Self.server()
        var client = Self.client()
        let hello = client.start(now: 0)
        guard case .refuse(.serverFull, let refusal) = server.handle(hello, from: F.clientAddress, acceptingSessions: false)
        else {
            Issue.record("HELLO not refused")
            return
        }
        #expect(refusal.count == 26)
        let response = try Self.response(&client, &server)
        guard case .refuse(.serverFull, _) = server.handle(response, from: F.clientAddress, acceptingSessions: false) else {
            Issue.record("RESPONSE not refused")
            return
        }
        // A refusal for a full listener is not remembered: once there is room, the same RESPONSE gets in.
        guard case .established = server.handle(response, from: F.clientAddress) else {
            Issue.record("not established once there was room")
            return
        }
        // The client, told the server is full, gives up and says so.
        #expect(client.handleDatagram(refusal, now: 1) == .failed(.refused(.serverFull, retryAfterSeconds: 0)))
    }

    @Test func rememberedHandshakesAreBoundedAndRefusedBeyond() throws {
        var server = Self.server(maxRecent: 1)
        var first = Self.client()
        var second = Self.client(nonce: Array(Self.nonce.reversed()))
        guard case .established = server.handle(try Self.response(&first, &server), from: F.clientAddress),
            case .refuse(.serverFull, _) = server.handle(try Self.response(&second, &server), from: F.clientAddress)
        else {
            Issue.record("the bound did not hold")
            return
        }
        server.rotate(secret: F.key(91), now: 1)
        server.rotate(secret: F.key(92), now: 2)
        #expect(server.recentHandshakes == 0)
    }

    @Test func theClientIgnoresRepliesThatAreNotForItsHandshake() throws {
        var server = Self.server()
        var client = Self.client()
        var other = Self.client(nonce: Array(repeating: 7, count: 32))
        let hello = client.start(now: 0)
        _ = other.start(now: 0)
        guard case .challenge(let challenge) = server.handle(hello, from: F.clientAddress) else { return }
        // Someone else's CHALLENGE, and one altered on the way, change nothing for `other`.
        #expect(other.handleDatagram(challenge, now: 1) == .none)
        guard case .send(let response) = client.handleDatagram(challenge, now: 1),
            case .established(_, let welcome) = server.handle(response, from: F.clientAddress)
        else { return }
        // A WELCOME whose proof fails (a server without the key, or an altered one) is ignored.
        var forged = welcome
        forged[40] ^= 1
        #expect(client.handleDatagram(forged, now: 2) == .none)
        var altered = welcome
        altered[30] = 0
        #expect(client.handleDatagram(altered, now: 2) == .none)
        #expect(client.handleDatagram([1, 2, 3], now: 2) == .none)
        #expect(client.handleDatagram(challenge, now: 2) == .none)
        guard case .established = client.handleDatagram(welcome, now: 3) else {
            Issue.record("the real WELCOME was not accepted after the forgeries")
            return
        }
    }

    @Test func aClientThatRequiresEncryptionRefusesAServerWithout() throws {
        var server = Self.server(parameters: .init(encrypted: false))
        var client = Self.client(configuration: .init(requireEncryption: true))
        let response = try Self.response(&client, &server)
        guard case .established(_, let welcome) = server.handle(response, from: F.clientAddress) else { return }
        #expect(client.handleDatagram(welcome, now: 3) == .failed(.encryptionRequired))
    }

    @Test func theClientResendsWithBackOffAndGivesUp() throws {
        var client = Self.client(configuration: .init(initialTimeout: 500 * Self.ms, maxAttempts: 4))
        let hello = client.start(now: 0)
        var times: [UInt64] = []
        while true {
            let now = try #require(client.nextTimeout)
            let outcome = client.handleTimeout(now: now)
            if case .send(let again) = outcome {
                #expect(again == hello)
                times.append(now)
            } else {
                #expect(outcome == .failed(.timedOut))
                times.append(now)
                break
            }
        }
        let expected: [UInt64] = [500, 1500, 3500, 7500]
        #expect(times == expected.map { $0 * Self.ms })
        #expect(client.nextTimeout == nil)
    }

    @Test func theClientResendsItsResponseAndTheServerAnswersWithTheSameWelcome() throws {
        var server = Self.server()
        var client = Self.client()
        let response = try Self.response(&client, &server)
        guard case .established(let setup, let welcome) = server.handle(response, from: F.clientAddress) else { return }
        // The WELCOME is lost; the client sends its RESPONSE again.
        let at = try #require(client.nextTimeout)
        guard case .send(let again) = client.handleTimeout(now: at) else {
            Issue.record("no resend")
            return
        }
        #expect(again == response)
        #expect(server.handle(again, from: F.clientAddress) == .repeated(sessionID: setup.sessionID, welcome: welcome))
        guard case .established(let clientSetup) = client.handleDatagram(welcome, now: at + 10 * Self.ms) else { return }
        // Resending the RESPONSE does not spoil the HELLO's clean sample.
        #expect(clientSetup.handshakeRTT == 20 * Self.ms)
    }

    @Test func reloadedKeysApplyToTheNextResponse() throws {
        var server = Self.server()
        var client = Self.client(id: "bob", key: F.key(2))
        let response = try Self.response(&client, &server)
        server.updateKeys(["bob": F.key(3)])
        guard case .refuse(.badAuth, _) = server.handle(response, from: F.clientAddress) else {
            Issue.record("a key removed by a reload still worked")
            return
        }
        server.updateKeys(Self.keys)
        guard case .established = server.handle(response, from: F.clientAddress) else {
            Issue.record("the restored key did not work")
            return
        }
    }
}
