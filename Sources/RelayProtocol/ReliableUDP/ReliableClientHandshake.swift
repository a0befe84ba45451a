/// The client's half of the handshake: HELLO, RESPONSE to the CHALLENGE, and the session keys once WELCOME
/// proves the server holds the same key; HELLO and RESPONSE are sent again on a backed-off timer.
///
/// A pure state machine like `ReliableSession`: `start` gives the HELLO, `handleDatagram` every datagram from
/// the server, `handleTimeout` when `nextTimeout` has passed; each returns what to do. Replies whose echo is not
/// this handshake's nonce are ignored (nobody off the path can make one), and so is a WELCOME whose proof does
/// not verify. REFUSED is acted on: `expiredCookie` starts again with HELLO, anything else fails.
public struct ReliableClientHandshake: Sendable {
    /// The knobs.
    public struct Configuration: Sendable, Equatable {
        /// HELLO's size: the client's `max_packet_size`, so a path that cannot carry it fails here.
        public var helloSize: Int
        /// The wait before the first resend; it doubles with each.
        public var initialTimeout: UInt64
        /// HELLOs and RESPONSEs sent in all before giving up.
        public var maxAttempts: Int
        /// Refuse a server that offers sessions without encryption.
        public var requireEncryption: Bool

        /// 1,200-byte HELLO, 500 ms first wait, 6 attempts (31.5 s in all), encryption not required.
        public init(helloSize: Int = ReliableWire.defaultPacketSize, initialTimeout: UInt64 = 500_000_000,
                    maxAttempts: Int = 6, requireEncryption: Bool = false) {
            self.helloSize = helloSize
            self.initialTimeout = max(initialTimeout, 1_000_000)
            self.maxAttempts = max(1, maxAttempts)
            self.requireEncryption = requireEncryption
        }
    }

    /// What to do next.
    public enum Outcome: Sendable, Equatable {
        /// Nothing (the datagram was not for this handshake, or nothing was due).
        case none
        /// Send this to the server.
        case send([UInt8])
        /// The session exists: make a `ReliableSession` from the setup.
        case established(ReliableSessionSetup)
        /// The handshake is over without a session.
        case failed(Failure)
    }

    /// Why a handshake failed.
    public enum Failure: Sendable, Equatable {
        /// The server refused, and may have said when to try again.
        case refused(ReliableRefusalReason, retryAfterSeconds: UInt16)
        /// The server speaks up to `highestVersion`, not ours.
        case unsupportedVersion(highestVersion: UInt8)
        /// No answer after every attempt.
        case timedOut
        /// The server offers sessions without encryption and `requireEncryption` is set.
        case encryptionRequired
    }

    private enum Phase: Sendable {
        case idle
        case awaitingChallenge(hello: [UInt8], sentAt: UInt64, firstAttempt: Bool)
        case awaitingWelcome(response: [UInt8], transcript: [UInt8], serverNonce: [UInt8], rtt: UInt64?)
        case done
    }

    /// The knobs.
    public let configuration: Configuration
    /// Who the client is.
    public let clientID: String
    /// Its pre-shared key.
    private let key: [UInt8]
    /// This handshake's nonce.
    private let clientNonce: [UInt8]
    /// Where the server is.
    public let serverAddress: ReliablePeerAddress
    private let schedule: ReliableKeySchedule
    private var phase = Phase.idle
    /// HELLOs and RESPONSEs sent so far.
    public private(set) var attempts = 0
    /// When the current packet is sent again.
    public private(set) var nextTimeout: UInt64?

    /// A handshake for `clientID` with its 32-byte `key` and a fresh 32-byte random `clientNonce`.
    public init(clientID: String, key: [UInt8], clientNonce: [UInt8], serverAddress: ReliablePeerAddress,
                configuration: Configuration = .init(), cryptography: any ReliableCryptography) {
        precondition(ReliableClientID.isValid(clientID), "an invalid client id")
        precondition(clientNonce.count == ReliableWire.nonceSize, "a client nonce of the wrong size")
        self.clientID = clientID
        self.key = key
        self.clientNonce = clientNonce
        self.serverAddress = serverAddress
        self.configuration = configuration
        schedule = ReliableKeySchedule(cryptography: cryptography)
    }

    /// The first HELLO, sent at `now`.
    public mutating func start(now: UInt64) -> [UInt8] {
        let hello = ReliableHello(clientNonce: clientNonce, clientID: clientID).encode(
            paddedSize: configuration.helloSize)
        phase = .awaitingChallenge(hello: hello, sentAt: now, firstAttempt: true)
        sent(now: now)
        return hello
    }

    /// Takes in a datagram from the server.
    public mutating func handleDatagram(_ datagram: [UInt8], now: UInt64) -> Outcome {
        guard let packet = try? ReliablePacket.decode(datagram) else { return .none }
        let echo = Array(clientNonce.prefix(ReliableWire.echoSize))
        switch (packet, phase) {
        case (.challenge(let challenge), .awaitingChallenge(_, let sentAt, let firstAttempt)):
            guard challenge.echo == echo else { return .none }
            let transcript = schedule.transcript(
                clientNonce: clientNonce, clientID: clientID, serverNonce: challenge.serverNonce,
                cookie: challenge.cookie)
            let response = ReliableResponse(
                clientNonce: clientNonce, clientID: clientID, cookie: challenge.cookie,
                proof: schedule.clientProof(key: key, transcript: transcript)
            ).encode()
            // Karn: a HELLO sent twice gives no clean sample.
            let rtt = firstAttempt ? (now >= sentAt ? now - sentAt : 0) : nil
            phase = .awaitingWelcome(
                response: response, transcript: transcript, serverNonce: challenge.serverNonce, rtt: rtt)
            sent(now: now)
            return .send(response)
        case (.welcome(let welcome), .awaitingWelcome(_, let transcript, let serverNonce, let rtt)):
            guard welcome.echo == echo else { return .none }
            let expected = schedule.serverProof(
                key: key, transcript: transcript, sessionID: welcome.sessionID, parameters: welcome.parameters)
            guard schedule.cryptography.constantTimeEqual(expected, welcome.proof) else { return .none }
            phase = .done
            nextTimeout = nil
            if configuration.requireEncryption, !welcome.parameters.encrypted { return .failed(.encryptionRequired) }
            let keys = schedule.sessionKeys(
                key: key, clientNonce: clientNonce, serverNonce: serverNonce, transcript: transcript,
                sessionID: welcome.sessionID, parameters: welcome.parameters)
            return .established(
                ReliableSessionSetup(
                    role: .client, sessionID: welcome.sessionID, clientID: clientID, parameters: welcome.parameters,
                    clientToServerKey: keys.clientToServer, serverToClientKey: keys.serverToClient,
                    peerAddress: serverAddress, handshakeRTT: rtt))
        case (.refused(let refused), .awaitingChallenge), (.refused(let refused), .awaitingWelcome):
            guard refused.echo == echo else { return .none }
            if refused.reason == .expiredCookie, case .awaitingWelcome = phase {
                guard attempts < configuration.maxAttempts else { return fail(.timedOut) }
                return .send(start(now: now))
            }
            if refused.reason == .unsupportedVersion {
                return fail(.unsupportedVersion(highestVersion: refused.highestVersion))
            }
            return fail(.refused(refused.reason, retryAfterSeconds: refused.retryAfterSeconds))
        default:
            return .none
        }
    }

    /// Sends HELLO or RESPONSE again if its timer has passed, or gives up after `maxAttempts`.
    public mutating func handleTimeout(now: UInt64) -> Outcome {
        guard let deadline = nextTimeout, now >= deadline else { return .none }
        guard attempts < configuration.maxAttempts else { return fail(.timedOut) }
        switch phase {
        case .awaitingChallenge(let hello, _, _):
            phase = .awaitingChallenge(hello: hello, sentAt: now, firstAttempt: false)
            sent(now: now)
            return .send(hello)
        case .awaitingWelcome(let response, _, _, _):
            // The HELLO's round trip was clean whatever became of the RESPONSE: the phase stays as it is.
            sent(now: now)
            return .send(response)
        case .idle, .done:
            return .none
        }
    }

    /// Counts a packet sent and sets the timer: the initial timeout doubled per earlier attempt.
    private mutating func sent(now: UInt64) {
        attempts += 1
        var wait = configuration.initialTimeout
        for _ in 1..<min(attempts, 32) where wait < UInt64.max / 2 { wait *= 2 }
        let (deadline, overflow) = now.addingReportingOverflow(wait)
        nextTimeout = overflow ? .max : deadline
    }

    private mutating func fail(_ failure: Failure) -> Outcome {
        phase = .done
        nextTimeout = nil
        return .failed(failure)
    }
}
