/// Everything a handshake hands to a new `ReliableSession`: who, which keys, which parameters, where.
public struct ReliableSessionSetup: Sendable, Equatable {
    /// This side's role.
    public var role: ReliableRole
    /// The session's id, from WELCOME.
    public var sessionID: UInt64
    /// The client's id, from its HELLO.
    public var clientID: String
    /// The parameters WELCOME carried.
    public var parameters: ReliableSessionParameters
    /// The 32-byte key of client-to-server packets.
    public var clientToServerKey: [UInt8]
    /// The 32-byte key of server-to-client packets.
    public var serverToClientKey: [UInt8]
    /// The peer's address when the handshake ended.
    public var peerAddress: ReliablePeerAddress
    /// A round trip measured during the handshake, if one was (the client times HELLO to CHALLENGE when it did
    /// not have to send HELLO twice).
    public var handshakeRTT: UInt64?

    /// A setup of these parts.
    public init(role: ReliableRole, sessionID: UInt64, clientID: String, parameters: ReliableSessionParameters,
                clientToServerKey: [UInt8], serverToClientKey: [UInt8], peerAddress: ReliablePeerAddress,
                handshakeRTT: UInt64? = nil) {
        self.role = role
        self.sessionID = sessionID
        self.clientID = clientID
        self.parameters = parameters
        self.clientToServerKey = clientToServerKey
        self.serverToClientKey = serverToClientKey
        self.peerAddress = peerAddress
        self.handshakeRTT = handshakeRTT
    }
}
