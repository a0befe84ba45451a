/// The deadlines of one event loop's reliable-UDP sessions, earliest first: the loop arms one `LoopTimer` for the
/// earliest instead of putting a timer per session in its heap.
///
/// A binary min-heap of (deadline, session id) with lazy deletion: a session that moves its deadline pushes a new
/// entry and remembers its current one, and an entry that no longer matches is skipped when it comes up. So every
/// change costs one push (log n), nothing is searched, and stale entries are bounded by the events that made
/// them. Pure, tested without a clock.
struct ReliableTimerSchedule: Sendable {
    private var heap: [(deadline: UInt64, id: UInt64)] = []

    /// Entries held, stale ones included.
    var count: Int { heap.count }

    /// The earliest deadline held (possibly stale), if any.
    var earliest: UInt64? { heap.first?.deadline }

    /// Adds a deadline for session `id`.
    mutating func push(_ deadline: UInt64, id: UInt64) {
        heap.append((deadline, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the entries due at `now`, earliest first; the caller skips those that are stale.
    mutating func popDue(now: UInt64) -> [(deadline: UInt64, id: UInt64)] {
        var due: [(deadline: UInt64, id: UInt64)] = []
        while let top = heap.first, top.deadline <= now {
            due.append(top)
            popTop()
        }
        return due
    }

    /// Forgets every entry.
    mutating func removeAll() {
        heap.removeAll()
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            if smallest == parent { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
