import RelayIO

/// An in-memory log for tests.
public final class LogCapture: Sendable {
    private let storage = SanitizerVisibleMutex<[String]>([])

    public init() {}

    func append(_ line: String) { storage.withLock { $0.append(line) } }

    /// Every line written so far, without trailing newlines.
    public var lines: [String] {
        storage.withLock { $0.map { String($0.dropLast()) } }
    }
}
