/// What a frame carries after its header; the case decides the frame's type.
public enum MultipathBody: Sendable, Equatable, Hashable {
    /// One application datagram of flow `flow` (nonzero; chosen by the client per local source address).
    case data(flow: UInt32, payload: [UInt8])
    /// A client's probe of one link.
    case heartbeat(MultipathHeartbeat)
    /// The server's answer to a heartbeat.
    case heartbeatAck(MultipathHeartbeatAck)

    /// The frame type this body makes.
    public var type: MultipathFrameType {
        switch self {
        case .data: .data
        case .heartbeat: .heartbeat
        case .heartbeatAck: .heartbeatAck
        }
    }

    /// The body's length on the wire.
    public var encodedSize: Int {
        switch self {
        case .data(_, let payload): MultipathWire.dataBodyPrefixSize + payload.count
        case .heartbeat: MultipathWire.heartbeatBodySize
        case .heartbeatAck: MultipathWire.heartbeatAckBodySize
        }
    }

    /// The only direction this body may travel in, or nil when it goes both ways.
    public var requiredDirection: MultipathDirection? {
        Self.requiredDirection(of: type)
    }

    /// The only direction a body of `type` may travel in, or nil when it goes both ways.
    public static func requiredDirection(of type: MultipathFrameType) -> MultipathDirection? {
        switch type {
        case .data: nil
        case .heartbeat: .clientToServer
        case .heartbeatAck: .serverToClient
        }
    }
}
