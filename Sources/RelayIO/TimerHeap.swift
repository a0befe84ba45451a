/// A min-heap of deadlines with lazy cancellation.
struct TimerHeap {
    private var heap: [(deadline: UInt64, id: UInt64)] = []
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 1

    var earliestDeadline: UInt64? {
        mutating get {
            while let top = heap.first, actions[top.id] == nil { popTop() }
            return heap.first?.deadline
        }
    }

    mutating func insert(deadline: UInt64, action: @escaping @Sendable () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append((deadline, id))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if heap[parent].deadline <= heap[child].deadline { break }
            heap.swapAt(parent, child)
            child = parent
        }
        return TimerID(raw: id)
    }

    mutating func cancel(_ timer: TimerID) {
        actions[timer.raw] = nil
    }

    mutating func popDue(now: UInt64, into due: inout [@Sendable () -> Void]) {
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let action = actions.removeValue(forKey: top.id) { due.append(action) }
        }
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
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
