import RelayIO

/// Text collected from a child's output, appended from the pipe's reader thread, and whether the pipe has
/// reached its end (the child and everything that inherited the pipe have exited or closed it).
public final class OutputBuffer: Sendable {
    private let storage = SanitizerVisibleMutex<(text: String, ended: Bool)>(("", false))

    public init() {}

    public func append(_ text: String) { storage.withLock { $0.text += text } }

    public func end() { storage.withLock { $0.ended = true } }

    public var text: String { storage.withLock { $0.text } }

    public var ended: Bool { storage.withLock { $0.ended } }
}
