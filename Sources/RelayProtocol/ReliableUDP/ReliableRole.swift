/// Which end of a session this side is: it decides which key seals and which opens.
public enum ReliableRole: Sendable, Equatable {
    /// Sent HELLO.
    case client
    /// Answered it.
    case server

    /// The direction of the packets this side sends.
    public var sendDirection: ReliableDirection { self == .client ? .clientToServer : .serverToClient }
    /// The direction of the packets this side receives.
    public var receiveDirection: ReliableDirection { self == .client ? .serverToClient : .clientToServer }
}
