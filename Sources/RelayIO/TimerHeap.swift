/// An event loop's timers: deadlines in a `DeadlineHeap`, actions by timer id, cancellation by forgetting the
/// action (its heap entry is skipped when it comes up).
struct TimerHeap {
    private var deadlines = DeadlineHeap()
    private var actions: [UInt64: @Sendable () -> Void] = [:]
    private var nextID: UInt64 = 1

    var earliestDeadline: UInt64? {
        mutating get {
            while let top = deadlines.first, actions[top.id] == nil { deadlines.popFirst() }
            return deadlines.first?.deadline
        }
    }

    mutating func insert(deadline: UInt64, action: @escaping @Sendable () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        actions[id] = action
        deadlines.push(deadline, id: id)
        return TimerID(raw: id)
    }

    mutating func cancel(_ timer: TimerID) {
        actions[timer.raw] = nil
    }

    mutating func popDue(now: UInt64, into due: inout [@Sendable () -> Void]) {
        while let top = deadlines.first, top.deadline <= now {
            deadlines.popFirst()
            if let action = actions.removeValue(forKey: top.id) { due.append(action) }
        }
    }
}
