/// The kind of a multipath frame: the byte at offset 5.
public enum MultipathFrameType: UInt8, Sendable, Equatable, Hashable, CaseIterable, CustomStringConvertible {
    /// An application datagram of one flow, either way.
    case data = 1
    /// A client's probe of one link, carrying its view of that link; client to server only.
    case heartbeat = 2
    /// The server's answer to a HEARTBEAT, on the link it came from; server to client only.
    case heartbeatAck = 3

    /// The name docs/multipath.md uses.
    public var description: String {
        switch self {
        case .data: "DATA"
        case .heartbeat: "HEARTBEAT"
        case .heartbeatAck: "HEARTBEAT_ACK"
        }
    }
}
