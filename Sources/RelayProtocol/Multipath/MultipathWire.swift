/// The constants of the multipath wire format, version 1, as docs/multipath.md lays them out byte by byte.
///
/// Every frame is one UDP datagram: a header of 21 bytes plus the client id, a body that depends on the type, and
/// a 16-byte tag over everything before it. A datagram that does not start with the magic is not ours.
public enum MultipathWire {
    /// "RLYM": the first four bytes of every frame.
    public static let magic: [UInt8] = [0x52, 0x4C, 0x59, 0x4D]
    /// The only version this code speaks.
    public static let version: UInt8 = 1

    /// Magic (4), version (1), type (1), flags (1), active link (1), client id length (1), session (8) and
    /// sequence (4): the header without the client id's own bytes.
    public static let fixedHeaderSize = 21
    /// The truncated HMAC-SHA256 that ends every frame.
    public static let tagSize = 16
    /// The client's pre-shared key, as the keys file holds it.
    public static let keySize = 32
    /// The longest client id (the keys file's rule).
    public static let maxClientIDLength = 64
    /// The largest datagram either side sends or accepts: the largest UDP payload over IPv4.
    public static let maxDatagramSize = 65_507

    /// DATA's body before the payload: the flow id.
    public static let dataBodyPrefixSize = 4
    /// HEARTBEAT's body: link, health, timestamp, smoothed RTT, loss, score.
    public static let heartbeatBodySize = 20
    /// HEARTBEAT_ACK's body: link and the echoed timestamp.
    public static let heartbeatAckBodySize = 9

    /// The smallest frame of any type: a one-byte client id, the shortest body (DATA's flow id) and the tag.
    public static let minFrameSize = fixedHeaderSize + 1 + dataBodyPrefixSize + tagSize

    /// The "active link" byte of a frame that names no link: every server-to-client frame, and a client's
    /// frames before it has chosen one.
    public static let noLink: UInt8 = 0xFF
    /// Links per client: indices 0 to 254, since 255 is `noLink`.
    public static let maxLinks = 255

    /// The default replay window: 8,192 sequences behind the newest, enough for a path that lags the fastest
    /// by 800 ms at 10,000 frames a second before its copies count as too old.
    public static let defaultReplayWindow = 8192

    /// The header's length for a client id of `clientIDLength` bytes.
    public static func headerSize(clientIDLength: Int) -> Int {
        fixedHeaderSize + clientIDLength
    }

    /// The largest DATA payload a frame for a client id of `clientIDLength` bytes can carry.
    public static func maxPayload(clientIDLength: Int) -> Int {
        maxDatagramSize - headerSize(clientIDLength: clientIDLength) - dataBodyPrefixSize - tagSize
    }

    /// True when `bytes` starts with the magic.
    public static func hasMagic(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == magic[0] && bytes[1] == magic[1] && bytes[2] == magic[2]
            && bytes[3] == magic[3]
    }
}
