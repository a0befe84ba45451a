/// The connections of one listener by the time they next need a timeout look: a binary min-heap of
/// (time, connection id).
///
/// Entries are not removed when a connection ends (that would need an index per connection); they are
/// dropped when they come due and their id is gone, and `compact` rebuilds the heap from the live
/// connections when dead entries outnumber them, so memory stays proportional to open connections.
public struct TimeoutSchedule: Sendable {
    /// One scheduled look.
    struct Entry: Sendable, Equatable {
        var due: UInt64
        var id: UInt64
    }

    private var heap: [Entry] = []

    public init() {}

    /// Entries held, live or not.
    public var count: Int { heap.count }

    /// When the earliest entry is due; nil when empty.
    public var earliest: UInt64? { heap.first?.due }

    /// Schedules a look at connection `id` at `due`.
    public mutating func schedule(_ id: UInt64, at due: UInt64) {
        heap.append(Entry(due: due, id: id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the ids of every entry due at or before `now`, earliest first.
    public mutating func popDue(now: UInt64) -> [UInt64] {
        var due: [UInt64] = []
        while let first = heap.first, first.due <= now {
            due.append(first.id)
            let last = heap.removeLast()
            guard !heap.isEmpty else { break }
            heap[0] = last
            siftDown(from: 0)
        }
        return due
    }

    /// Rebuilds the heap from `live` (id and next look of every open connection), dropping everything else.
    public mutating func compact(_ live: [(id: UInt64, due: UInt64)]) {
        heap = live.map { Entry(due: $0.due, id: $0.id) }
        guard heap.count > 1 else { return }
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].due < heap[left].due { smallest = left + 1 }
            guard heap[smallest].due < heap[parent].due else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
