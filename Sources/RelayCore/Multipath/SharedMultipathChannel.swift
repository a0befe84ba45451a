import RelayIO
import RelayProtocol

/// A multipath client's channel shared by its listener (DATA out, replies in) and its LinkMonitor (heartbeats
/// out): one sequence space and one replay filter for every frame of the client, behind one lock that is held for
/// a seal or an open, never across an await.
final class SharedMultipathChannel: Sendable {
    private let channel: SanitizerVisibleMutex<MultipathChannel>

    init(_ channel: MultipathChannel) {
        self.channel = SanitizerVisibleMutex(channel)
    }

    /// Runs `body` on the channel under the lock.
    func withLock<Result: Sendable>(_ body: (inout MultipathChannel) throws -> Result) rethrows -> Result {
        try channel.withLock { try body(&$0) }
    }
}
