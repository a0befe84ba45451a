/// One client's authenticated channel, as one end holds it: the keys, the numbering of the frames it sends and
/// the replay filter over the frames it receives.
///
/// The client holds one (role `.client`), the server one per client in its keys file (role `.server`). A
/// redundant send seals once and sends the same bytes on each link: the copies share their sequence, and the
/// receiver's filter keeps the first to arrive.
///
/// Receiving follows RFC 6479's order: decode, check the client id and direction, screen the sequence, and
/// only then verify the tag; the filter records the sequence only after the tag matched. Every drop is counted
/// once, by the filter (duplicate, too old, stale session) or here (the rest).
public struct MultipathChannel: Sendable {
    /// Which end of the channel this is.
    public enum Role: Sendable, Equatable {
        /// The multipath client: sends client to server.
        case client
        /// The multipath server: sends server to client.
        case server
    }

    /// The client this channel serves.
    public let clientID: String
    /// Which end holds it.
    public let role: Role
    /// The client's two keys.
    private let keys: MultipathKeys
    /// The numbers of the frames this end sends.
    public private(set) var sequencer: MultipathSequencer
    /// What this end has accepted from the other.
    public private(set) var filter: MultipathReplayFilter
    /// Datagrams dropped as malformed.
    public private(set) var malformed = 0
    /// Frames dropped for a client id other than `clientID`.
    public private(set) var unknownClient = 0
    /// Frames dropped for travelling the wrong way.
    public private(set) var wrongDirection = 0
    /// Frames dropped for a tag that did not verify.
    public private(set) var badTags = 0
    /// Frames delivered.
    public private(set) var accepted = 0

    /// A channel for `clientID` under its 32-byte `key`, whose own frames start in `session` (the wall clock in
    /// nanoseconds, see `MultipathSequencer`).
    public init(clientID: String, key: [UInt8], role: Role, session: UInt64,
                replayWindow: Int = MultipathWire.defaultReplayWindow) {
        self.clientID = clientID
        self.role = role
        keys = MultipathKeys(clientKey: key)
        sequencer = MultipathSequencer(session: session)
        filter = MultipathReplayFilter(windowSize: replayWindow)
    }

    /// The direction of the frames this end sends.
    public var sendDirection: MultipathDirection { role == .client ? .clientToServer : .serverToClient }

    /// The next frame carrying `body`, numbered and tagged, ready to send on one link or several.
    ///
    /// `activeLink` and `replyFanout` are the client's to set and must stay nil and `.oneLink` at the server.
    /// Throws when the frame cannot be encoded, in practice a payload too large for a datagram
    /// (`MultipathWire.maxPayload`); the sequence it would have had is skipped, which costs nothing.
    public mutating func seal(_ body: MultipathBody, activeLink: UInt8? = nil,
                              replyFanout: MultipathReplyFanout = .oneLink) throws(MultipathFrameError) -> [UInt8] {
        let (session, sequence) = sequencer.next()
        let frame = MultipathFrame(direction: sendDirection, replyFanout: replyFanout, activeLink: activeLink,
                                   clientID: clientID, session: session, sequence: sequence, body: body)
        return try frame.encode(authenticatingWith: keys)
    }

    /// The frame in `datagram` if it is well formed, for this client, travelling towards this end, fresh and
    /// authentic; otherwise why it was dropped.
    public mutating func open(_ datagram: [UInt8]) -> Result<MultipathAuthenticatedFrame, MultipathDrop> {
        do {
            return open(try MultipathFrame.decode(datagram), datagram: datagram)
        } catch {
            malformed += 1
            return .failure(.malformed(error))
        }
    }

    /// `open` for a datagram already decoded into `frame` (the server decodes once to find the client's
    /// channel by `frame.clientID`). `datagram` must be the bytes `frame` was decoded from.
    public mutating func open(_ frame: MultipathFrame, datagram: [UInt8])
        -> Result<MultipathAuthenticatedFrame, MultipathDrop>
    {
        guard frame.clientID == clientID else {
            unknownClient += 1
            return .failure(.unknownClient)
        }
        guard frame.direction == sendDirection.reversed else {
            wrongDirection += 1
            return .failure(.wrongDirection)
        }
        switch filter.screen(session: frame.session, sequence: frame.sequence) {
        case .fresh: break
        case .duplicate: return .failure(.duplicate)
        case .tooOld: return .failure(.tooOld)
        case .staleSession: return .failure(.staleSession)
        }
        guard keys.isAuthentic(datagram, direction: frame.direction) else {
            badTags += 1
            return .failure(.badTag)
        }
        filter.insert(session: frame.session, sequence: frame.sequence)
        accepted += 1
        return .success(MultipathAuthenticatedFrame(frame: frame))
    }
}
