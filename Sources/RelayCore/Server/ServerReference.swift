import RelayIO

/// A weak link from a service the server owns back to the server, set once the server exists.
final class ServerReference: Sendable {
    private let storage = SanitizerVisibleMutex<WeakServer>(WeakServer())

    private struct WeakServer: @unchecked Sendable {
        weak var server: RelayServer?
    }

    var server: RelayServer? { storage.withLock { $0.server } }

    func set(_ server: RelayServer) { storage.withLock { $0.server = server } }
}
