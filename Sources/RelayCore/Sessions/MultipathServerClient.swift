import RelayIO
import RelayProtocol

/// One client of a multipath server, as its keys file names it: the channel (keys, numbering, replay filter),
/// the return path learnt from its authenticated frames, and its open flows. Kept for the life of the listener,
/// since the keys file bounds the clients; only flows come and go.
final class MultipathServerClient: Sendable {
    /// What changes with every frame, under one lock: the receive loop and the flows' reply tasks all use it
    /// between two awaits on the listener's loop.
    struct State {
        var channel: MultipathChannel
        var returnPath: MultipathReturnPath<SocketAddress>
        var flows: [UInt32: MultipathServerFlow] = [:]
    }

    /// The client id.
    let id: String
    let state: SanitizerVisibleMutex<State>

    init(id: String, key: [UInt8], linkTimeout: Duration, session: UInt64) {
        self.id = id
        state = SanitizerVisibleMutex(State(
            channel: MultipathChannel(clientID: id, key: key, role: .server, session: session),
            returnPath: MultipathReturnPath(linkTimeout: linkTimeout)))
    }
}
