import RelayIO

/// The connections of one listener by the time they next need a timeout look: a binary min-heap of
/// (time, connection id).
///
/// Entries are not removed when a connection ends (that would need an index per connection); they are
/// dropped when they come due and their id is gone, and `compact` rebuilds the heap from the live
/// connections when dead entries outnumber them, so memory stays proportional to open connections.
public struct TimeoutSchedule: Sendable {
    private var heap = DeadlineHeap()

    public init() {}

    /// Entries held, live or not.
    public var count: Int { heap.count }

    /// When the earliest entry is due; nil when empty.
    public var earliest: UInt64? { heap.first?.deadline }

    /// Schedules a look at connection `id` at `due`.
    public mutating func schedule(_ id: UInt64, at due: UInt64) {
        heap.push(due, id: id)
    }

    /// Removes and returns the ids of every entry due at or before `now`, earliest first.
    public mutating func popDue(now: UInt64) -> [UInt64] {
        heap.popDue(now: now).map(\.id)
    }

    /// Rebuilds the heap from `live` (id and next look of every open connection), dropping everything else.
    public mutating func compact(_ live: [(id: UInt64, due: UInt64)]) {
        heap = DeadlineHeap(live.map { (deadline: $0.due, id: $0.id) })
    }
}
