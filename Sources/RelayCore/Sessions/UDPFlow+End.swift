extension UDPFlow {
    /// Why a flow ended, as the access log names it (`end=`): the flows' counterpart of `ConnectionEnd`. The raw
    /// value is what the flow's atomic holds.
    public enum End: UInt8, Sendable, CaseIterable, CustomStringConvertible {
        /// Not ended yet.
        case open = 0
        /// No datagram either way for the listener's `idle_timeout`.
        case idle
        /// The server sent the `responses` replies the listener allows a flow.
        case responses
        /// The server answered with ICMP port unreachable; the client's next datagram moves to another server.
        case unreachable
        /// Replaced by a flow to another server after an ICMP unreachable.
        case moved
        /// The listener's run ended with a graceful shutdown.
        case shutdown
        /// Receiving or sending failed, or the listener's run failed.
        case error

        /// The name the access log writes.
        public var description: String {
            switch self {
            case .open: "open"
            case .idle: "idle"
            case .responses: "responses"
            case .unreachable: "unreachable"
            case .moved: "moved"
            case .shutdown: "shutdown"
            case .error: "error"
            }
        }
    }
}
