/// The server's half of the handshake: HELLO → CHALLENGE, RESPONSE → WELCOME, refusals, and nothing at all for
/// garbage, without storing anything for a client that has not authenticated.
///
/// **Stateless until authenticated.** CHALLENGE's server nonce and cookie are MACs under the current secret of
/// the client's address, the epoch, its nonce and its id, so RESPONSE can be checked by recomputing them; the
/// server keeps no record of the HELLOs it answered (WireGuard's cookie reply, QUIC's Retry token: WireGuard
/// whitepaper §5.4.7, RFC 9000 §8.1.2). Secrets rotate (`rotate`, every `rotationInterval`); a cookie of the
/// current or the previous epoch is accepted, so one lives between one and two intervals.
///
/// **Anti-amplification.** No reply is larger than the datagram it answers: HELLO is at least 128 bytes and
/// CHALLENGE 90, RESPONSE at least 108 and WELCOME 69, REFUSED 26. Bytes without the magic, of an unknown type,
/// too short or malformed get no reply; nor does a RESPONSE whose cookie does not verify (forged, or from
/// another address).
///
/// **Replays.** After a RESPONSE authenticates, its session id (derived from the transcript) is remembered
/// until its cookie expires. The same RESPONSE again yields `.repeated` with the same WELCOME and never a
/// second session: the listener resends that WELCOME while the session waits for the client's first packet
/// (the first WELCOME was lost), and ignores it otherwise. A RESPONSE from any other address fails its cookie.
public struct ReliableServerHandshake: Sendable {
    /// The knobs.
    public struct Configuration: Sendable, Equatable {
        /// What WELCOME tells clients.
        public var parameters: ReliableSessionParameters
        /// How often the caller should rotate the secret.
        public var rotationInterval: UInt64
        /// Most authenticated handshakes remembered for replay detection; beyond it new ones are refused as
        /// server full until old ones expire.
        public var maxRecentHandshakes: Int

        /// The default parameters, rotation every 2 minutes, 65,536 recent handshakes.
        public init(parameters: ReliableSessionParameters = .init(), rotationInterval: UInt64 = 120_000_000_000,
                    maxRecentHandshakes: Int = 65_536) {
            self.parameters = parameters
            self.rotationInterval = rotationInterval
            self.maxRecentHandshakes = max(1, maxRecentHandshakes)
        }
    }

    /// What to do with a datagram.
    public enum Outcome: Sendable, Equatable {
        /// Send nothing back.
        case drop(DropReason)
        /// Send this CHALLENGE back.
        case challenge([UInt8])
        /// Send this REFUSED back.
        case refuse(ReliableRefusalReason, [UInt8])
        /// The client authenticated: make the session and send `welcome`.
        case established(ReliableSessionSetup, welcome: [UInt8])
        /// A RESPONSE accepted before: resend `welcome` if session `sessionID` lives and has not yet heard from
        /// its client; make nothing.
        case repeated(sessionID: UInt64, welcome: [UInt8])
    }

    /// Why a datagram got no reply, for counters.
    public enum DropReason: Sendable, Equatable {
        /// Not a reliable-UDP packet: bad magic, too short, unknown type, another version's non-HELLO.
        case garbage
        /// A handshake packet of the right type whose fields do not parse.
        case malformed
        /// A session packet: the listener routes those to sessions by id.
        case sessionPacket
        /// A packet only a server sends.
        case unexpected
        /// A RESPONSE whose cookie does not verify: forged, altered, or from another address.
        case badCookie
    }

    /// The knobs.
    public private(set) var configuration: Configuration
    /// Derivations.
    let schedule: ReliableKeySchedule
    /// Pre-shared keys by client id.
    public private(set) var keys: [String: [UInt8]]
    /// The current epoch and its secret.
    private var current: (epoch: UInt32, secret: [UInt8])
    /// The previous epoch and its secret, still accepted.
    private var previous: (epoch: UInt32, secret: [UInt8])?
    /// When the secret was last rotated.
    public private(set) var rotatedAt: UInt64
    /// Session ids of authenticated handshakes, with their cookie's epoch, until it expires.
    private var recent: [UInt64: UInt32] = [:]

    /// A handshake with these keys and a first secret (32 random bytes), at `now`.
    public init(configuration: Configuration = .init(), keys: [String: [UInt8]], secret: [UInt8],
                cryptography: any ReliableCryptography, now: UInt64) {
        self.configuration = configuration
        self.keys = keys
        schedule = ReliableKeySchedule(cryptography: cryptography)
        current = (0, secret)
        rotatedAt = now
    }

    /// The current epoch: the coarse time cookies carry.
    public var epoch: UInt32 { current.epoch }

    /// Handshakes remembered for replay detection.
    public var recentHandshakes: Int { recent.count }

    /// When the next rotation is due.
    public var nextRotation: UInt64 {
        let (sum, overflow) = rotatedAt.addingReportingOverflow(configuration.rotationInterval)
        return overflow ? .max : sum
    }

    /// Starts a new epoch with a new secret (32 random bytes); the previous one is still accepted, older ones
    /// are not, and handshakes remembered under them are forgotten.
    public mutating func rotate(secret: [UInt8], now: UInt64) {
        previous = current
        current = (current.epoch &+ 1, secret)
        rotatedAt = now
        let oldest = previous?.epoch ?? current.epoch
        recent = recent.filter { $0.value == current.epoch || $0.value == oldest }
    }

    /// Replaces the key table (a reload of the keys file). Sessions already made keep their keys.
    public mutating func updateKeys(_ keys: [String: [UInt8]]) {
        self.keys = keys
    }

    /// Replaces what WELCOME offers (a reload of the listener's settings), from the next RESPONSE on. Sessions
    /// already made keep theirs; cookies already handed out stay valid, since they do not cover the parameters.
    public mutating func updateParameters(_ parameters: ReliableSessionParameters) {
        configuration.parameters = parameters
    }

    /// Answers one datagram from `address` that is not routed to a session. With `acceptingSessions` false
    /// (the listener is full), HELLO and a valid RESPONSE are refused as server full.
    public mutating func handle(_ datagram: [UInt8], from address: ReliablePeerAddress,
                                acceptingSessions: Bool = true) -> Outcome {
        let type: ReliablePacketType
        do {
            type = try ReliablePacket.prefixType(datagram)
        } catch .unsupportedVersion {
            guard let refusal = refusal(answering: datagram, reason: .unsupportedVersion) else {
                return .drop(.garbage)
            }
            return .refuse(.unsupportedVersion, refusal)
        } catch {
            return .drop(.garbage)
        }
        switch type {
        case .hello:
            return hello(datagram, from: address, acceptingSessions: acceptingSessions)
        case .response:
            return response(datagram, from: address, acceptingSessions: acceptingSessions)
        case .challenge, .welcome, .refused:
            return .drop(.unexpected)
        case .data, .ack, .ping, .pong, .close:
            return .drop(.sessionPacket)
        }
    }

    /// REFUSED with `reason` answering `datagram`, or nil when it deserves no answer: it is not a HELLO or
    /// RESPONSE (of any version, for HELLO) or the refusal would be larger than it.
    public func refusal(answering datagram: [UInt8], reason: ReliableRefusalReason,
                        retryAfterSeconds: UInt16 = 0) -> [UInt8]? {
        guard datagram.count >= ReliableWire.refusedSize, datagram.count >= ReliableWire.prefixSize + ReliableWire.echoSize,
            ReliableWire.hasMagic(datagram)
        else { return nil }
        let type = datagram[5]
        let isHello = type == ReliablePacketType.hello.rawValue && datagram.count >= ReliableWire.minHelloSize
        let isResponse = type == ReliablePacketType.response.rawValue && datagram[4] == ReliableWire.version
            && datagram.count >= ReliableResponse.minSize
        guard isHello || isResponse else { return nil }
        let echo = Array(datagram[ReliableWire.prefixSize..<(ReliableWire.prefixSize + ReliableWire.echoSize)])
        return ReliableRefused(echo: echo, reason: reason, retryAfterSeconds: retryAfterSeconds).encode()
    }

    private func hello(_ datagram: [UInt8], from address: ReliablePeerAddress,
                       acceptingSessions: Bool) -> Outcome {
        guard let hello = try? ReliableHello.decode(datagram) else { return .drop(.malformed) }
        guard acceptingSessions else { return refuse(datagram, .serverFull) }
        let nonce = schedule.serverNonce(
            secret: current.secret, address: address, epoch: current.epoch, clientNonce: hello.clientNonce,
            clientID: hello.clientID)
        let mac = schedule.cookieMAC(
            secret: current.secret, address: address, epoch: current.epoch, clientNonce: hello.clientNonce,
            clientID: hello.clientID)
        let challenge = ReliableChallenge(
            echo: Array(hello.clientNonce.prefix(ReliableWire.echoSize)), serverNonce: nonce,
            cookie: ReliableCookie(epoch: current.epoch, mac: mac))
        return .challenge(challenge.encode())
    }

    private mutating func response(_ datagram: [UInt8], from address: ReliablePeerAddress,
                                   acceptingSessions: Bool) -> Outcome {
        guard let response = try? ReliableResponse.decode(datagram) else { return .drop(.malformed) }
        let cryptography = schedule.cryptography
        let age = current.epoch &- response.cookie.epoch
        let secret: [UInt8]
        if age == 0 {
            secret = current.secret
        } else if age == 1, let previous {
            secret = previous.secret
        } else if age >= 1, age < 1 << 31 {
            // Older than the previous secret: it cannot be checked any more, and nothing is lost by saying so.
            return refuse(datagram, .expiredCookie)
        } else {
            return .drop(.badCookie)
        }
        let expected = schedule.cookieMAC(
            secret: secret, address: address, epoch: response.cookie.epoch, clientNonce: response.clientNonce,
            clientID: response.clientID)
        guard cryptography.constantTimeEqual(expected, response.cookie.mac) else { return .drop(.badCookie) }

        let serverNonce = schedule.serverNonce(
            secret: secret, address: address, epoch: response.cookie.epoch, clientNonce: response.clientNonce,
            clientID: response.clientID)
        let transcript = schedule.transcript(
            clientNonce: response.clientNonce, clientID: response.clientID, serverNonce: serverNonce,
            cookie: response.cookie)
        // An unknown id costs the same HMAC as a known one, and gets the same answer.
        let key = keys[response.clientID]
        let proof = schedule.clientProof(key: key ?? Self.absentKey, transcript: transcript)
        guard cryptography.constantTimeEqual(proof, response.proof), let key else {
            return refuse(datagram, .badAuth)
        }

        let parameters = configuration.parameters
        let sessionID = schedule.sessionID(secret: secret, transcript: transcript)
        let welcome = ReliableWelcome(
            echo: Array(response.clientNonce.prefix(ReliableWire.echoSize)), sessionID: sessionID,
            parameters: parameters,
            proof: schedule.serverProof(key: key, transcript: transcript, sessionID: sessionID, parameters: parameters)
        ).encode()
        if recent[sessionID] != nil { return .repeated(sessionID: sessionID, welcome: welcome) }
        guard acceptingSessions, recent.count < configuration.maxRecentHandshakes else {
            return refuse(datagram, .serverFull)
        }
        recent[sessionID] = response.cookie.epoch
        let keys = schedule.sessionKeys(
            key: key, clientNonce: response.clientNonce, serverNonce: serverNonce, transcript: transcript,
            sessionID: sessionID, parameters: parameters)
        let setup = ReliableSessionSetup(
            role: .server, sessionID: sessionID, clientID: response.clientID, parameters: parameters,
            clientToServerKey: keys.clientToServer, serverToClientKey: keys.serverToClient, peerAddress: address)
        return .established(setup, welcome: welcome)
    }

    /// REFUSED with `reason` for a datagram already known to be a HELLO or RESPONSE.
    private func refuse(_ datagram: [UInt8], _ reason: ReliableRefusalReason) -> Outcome {
        guard let refusal = refusal(answering: datagram, reason: reason) else { return .drop(.malformed) }
        return .refuse(reason, refusal)
    }

    /// The key an unknown client id is checked against, so the check takes as long as for a known one.
    private static let absentKey = [UInt8](repeating: 0, count: ReliableWire.keySize)
}
