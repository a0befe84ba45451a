/// Identifies a scheduled timer so it can be cancelled.
struct TimerID: Hashable, Sendable {
    let raw: UInt64
}
