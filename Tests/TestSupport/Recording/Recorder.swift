import RelayIO

/// What happened, in order, safe to append to from any task.
public final class Recorder<Event: Sendable>: Sendable {
    private let events = SanitizerVisibleMutex<[Event]>([])

    public init() {}

    public func record(_ event: Event) {
        events.withLock { $0.append(event) }
    }

    public var all: [Event] {
        events.withLock { $0 }
    }

    public var count: Int {
        events.withLock { $0.count }
    }
}
