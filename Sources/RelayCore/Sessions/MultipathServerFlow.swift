import RelayIO
import Synchronization

/// One flow at a multipath server: one local application of one client (client id, flow id), with its own
/// connected socket to a backend server, so the backend sees each application as its own UDP peer.
final class MultipathServerFlow: Sendable {
    /// The client the flow belongs to.
    let client: MultipathServerClient
    /// The client's flow id.
    let id: UInt32
    /// The backend server it goes to.
    let server: ServerHandle
    /// Connected to `server`.
    let socket: UDPSocket
    /// When it was opened, and last carried a datagram either way (monotonic ns).
    let opened: UInt64
    let lastSeen: Atomic<UInt64>
    /// Bytes of payload to the backend and back.
    let bytesUp = Atomic<Int>(0), bytesDown = Atomic<Int>(0)

    init(client: MultipathServerClient, id: UInt32, server: ServerHandle, socket: UDPSocket, now: UInt64) {
        self.client = client
        self.id = id
        self.server = server
        self.socket = socket
        opened = now
        lastSeen = Atomic(now)
    }
}
