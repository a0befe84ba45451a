/// A binary min-heap of (deadline, id) pairs, earliest deadline first: the one deadline queue behind the event
/// loop's timers, the reliable-UDP session schedule and the TCP listeners' timeout schedule.
///
/// It knows nothing of what an id means. Both users delete lazily: a cancelled or moved deadline stays in the heap
/// and is skipped by its owner when it comes up, so every change is one push (log n) and nothing is searched.
public struct DeadlineHeap: Sendable {
    @usableFromInline var entries: [(deadline: UInt64, id: UInt64)] = []

    public init() {}

    /// A heap of `entries`, built in linear time.
    public init(_ entries: [(deadline: UInt64, id: UInt64)]) {
        self.entries = entries
        guard entries.count > 1 else { return }
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(from: index) }
    }

    /// Entries held, stale ones included.
    @inlinable public var count: Int { entries.count }

    /// The earliest entry, if any.
    @inlinable public var first: (deadline: UInt64, id: UInt64)? { entries.first }

    /// Adds `id` due at `deadline`.
    @inlinable public mutating func push(_ deadline: UInt64, id: UInt64) {
        entries.append((deadline, id))
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].deadline < entries[parent].deadline else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry.
    @inlinable @discardableResult public mutating func popFirst() -> (deadline: UInt64, id: UInt64)? {
        guard let top = entries.first else { return nil }
        let last = entries.removeLast()
        guard !entries.isEmpty else { return top }
        entries[0] = last
        siftDown(from: 0)
        return top
    }

    @inlinable mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, entries[left].deadline < entries[smallest].deadline { smallest = left }
            if right < entries.count, entries[right].deadline < entries[smallest].deadline { smallest = right }
            if smallest == parent { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }

    /// Removes and returns the entries due at `now` (deadline ≤ now), earliest first.
    @inlinable public mutating func popDue(now: UInt64) -> [(deadline: UInt64, id: UInt64)] {
        var due: [(deadline: UInt64, id: UInt64)] = []
        while let top = entries.first, top.deadline <= now {
            due.append(top)
            popFirst()
        }
        return due
    }

    /// Forgets every entry.
    @inlinable public mutating func removeAll() {
        entries.removeAll()
    }
}
