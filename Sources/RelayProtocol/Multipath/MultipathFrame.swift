/// One multipath frame: the header's fields and a body, without the tag (which `encode` computes and `decode`
/// leaves to `MultipathKeys` to check).
///
/// The layout, byte by byte, is in docs/multipath.md. `decode` accepts exactly what `encode` writes: every
/// field has one encoding, reserved bits must be zero, and nothing may follow a fixed-size body, so a decoded
/// frame re-encodes to the same bytes.
public struct MultipathFrame: Sendable, Equatable, Hashable {
    /// Which way the frame travels; decides the key.
    public var direction: MultipathDirection
    /// Client to server only: on how many links the server should send its replies.
    public var replyFanout: MultipathReplyFanout
    /// Client to server only: the link the client sends on now (its LinkMonitor's choice); nil when it has
    /// none yet, and always nil from the server.
    public var activeLink: UInt8?
    /// The client's id, as in the keys file: names the key, so the server can check the tag.
    public var clientID: String
    /// The sender's session: a number that only grows from one sender run to the next (see `MultipathSequencer`);
    /// never zero.
    public var session: UInt64
    /// The frame's number within its session, from 1; never zero. Redundant copies of a frame share it.
    public var sequence: UInt32
    /// The type's own fields.
    public var body: MultipathBody

    /// A frame with these fields.
    public init(direction: MultipathDirection, replyFanout: MultipathReplyFanout = .oneLink, activeLink: UInt8? = nil,
                clientID: String, session: UInt64, sequence: UInt32, body: MultipathBody) {
        self.direction = direction
        self.replyFanout = replyFanout
        self.activeLink = activeLink
        self.clientID = clientID
        self.session = session
        self.sequence = sequence
        self.body = body
    }

    /// The frame's type, from its body.
    public var type: MultipathFrameType { body.type }

    /// The frame's length on the wire, tag included.
    public var encodedSize: Int {
        MultipathWire.headerSize(clientIDLength: clientID.utf8.count) + body.encodedSize + MultipathWire.tagSize
    }
}
