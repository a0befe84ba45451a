import RelayIO

/// A set of addresses filled from several tasks.
public final class AddressSet: Sendable {
    private let storage = SanitizerVisibleMutex<Set<SocketAddress>>([])

    public init() {}

    public func insert(_ address: SocketAddress) { storage.withLock { _ = $0.insert(address) } }

    public var count: Int { storage.withLock { $0.count } }

    /// The addresses, sorted by their text, for a failure report.
    public var all: [String] { storage.withLock { $0.map(\.description).sorted() } }
}
