import RelayProtocol

/// Who a `ReliableUDPClient` is and how it behaves.
public struct ReliableUDPClientConfiguration: Sendable {
    /// The client id the server's keys file lists.
    public var clientID: String
    /// Its 32-byte pre-shared key.
    public var key: [UInt8]
    /// How long the handshake may take in all before the client gives up ("no answer"): 5 s by default.
    public var handshakeTimeout: Duration
    /// The size HELLO is padded to (and so the largest datagram the path must carry): 1,200 by default.
    public var helloSize: Int
    /// Fail when the server offers sessions without encryption.
    public var requireEncryption: Bool
    /// The session's own knobs (windows, queues, acknowledgement delay).
    public var session: ReliableSessionConfiguration

    public init(clientID: String, key: [UInt8], handshakeTimeout: Duration = .seconds(5),
                helloSize: Int = ReliableWire.defaultPacketSize, requireEncryption: Bool = false,
                session: ReliableSessionConfiguration = .init()) {
        self.clientID = clientID
        self.key = key
        self.handshakeTimeout = handshakeTimeout
        self.helloSize = helloSize
        self.requireEncryption = requireEncryption
        self.session = session
    }
}
