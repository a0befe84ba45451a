/// What a loop timer does when it fires.
enum TimerAction {
    /// Runs a closure.
    case run(@Sendable () -> Void)
    /// Ends a wait on a registration with `IOError.timedOut`, if the waiter with `token` is still there. Needs no
    /// closure, so the deadline of every read and write wait costs no allocation.
    case expireWait(IORegistration, IOInterest, token: UInt64)

    func fire() {
        switch self {
        case let .run(action): action()
        case let .expireWait(registration, interest, token): registration.expire(interest, token: token)
        }
    }
}

/// An event loop's timers: a binary min-heap of deadlines over a slab of timer slots, each slot knowing where its
/// entry is in the heap, so a cancel removes the entry at once.
///
/// Most timers are cancelled long before they are due (a connect or read deadline ends with the wait, usually in
/// microseconds); left in the heap until their deadline, as a lazily deleting heap would, they pile up to the rate
/// of waits times the timeout (millions at 30,000 requests a second and a 60 s timeout) and every push walks a
/// heap that large. Slots are reused through a free list; a timer's id carries its slot's generation, so cancelling
/// a timer that fired (or was cancelled) already does nothing even when the slot serves another timer now.
struct TimerHeap {
    private struct Slot {
        var action: TimerAction?
        /// The slot's entry in `heap`, or -1 while it holds no timer.
        var position = -1
        var generation: UInt32 = 0
    }

    private var slots: [Slot] = []
    private var freeSlots: [Int32] = []
    private var heap: [(deadline: UInt64, slot: Int32)] = []

    /// Timers scheduled and not yet fired or cancelled.
    var count: Int { heap.count }

    var earliestDeadline: UInt64? { heap.first?.deadline }

    mutating func insert(deadline: UInt64, action: @escaping @Sendable () -> Void) -> TimerID {
        insert(deadline: deadline, action: .run(action))
    }

    mutating func insert(deadline: UInt64, action: TimerAction) -> TimerID {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = Int(free)
        } else {
            slot = slots.count
            slots.append(Slot())
        }
        slots[slot].action = action
        heap.append((deadline, Int32(slot)))
        slots[slot].position = heap.count - 1
        siftUp(from: heap.count - 1)
        return TimerID(raw: UInt64(slots[slot].generation) << 32 | UInt64(slot))
    }

    mutating func cancel(_ timer: TimerID) {
        let slot = Int(UInt32(truncatingIfNeeded: timer.raw))
        guard slot < slots.count, slots[slot].generation == UInt32(truncatingIfNeeded: timer.raw >> 32),
              slots[slot].position >= 0 else { return }
        remove(at: slots[slot].position)
        release(slot)
    }

    mutating func popDue(now: UInt64, into due: inout [TimerAction]) {
        while let top = heap.first, top.deadline <= now {
            let slot = Int(top.slot)
            remove(at: 0)
            if let action = slots[slot].action { due.append(action) }
            release(slot)
        }
    }

    private mutating func release(_ slot: Int) {
        slots[slot].action = nil
        slots[slot].position = -1
        slots[slot].generation &+= 1
        freeSlots.append(Int32(slot))
    }

    private mutating func remove(at position: Int) {
        let last = heap.count - 1
        if position != last {
            move(last, to: position)
            heap.removeLast()
            if position > 0, heap[position].deadline < heap[(position - 1) / 2].deadline {
                siftUp(from: position)
            } else {
                siftDown(from: position)
            }
        } else {
            heap.removeLast()
        }
    }

    /// Puts the entry at `from` into `to` (overwriting it) and tells its slot.
    private mutating func move(_ from: Int, to: Int) {
        heap[to] = heap[from]
        slots[Int(heap[to].slot)].position = to
    }

    private mutating func siftUp(from start: Int) {
        let entry = heap[start]
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entry.deadline < heap[parent].deadline else { break }
            move(parent, to: child)
            child = parent
        }
        heap[child] = entry
        slots[Int(entry.slot)].position = child
    }

    private mutating func siftDown(from start: Int) {
        let entry = heap[start]
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { break }
            let right = left + 1
            let smaller = right < heap.count && heap[right].deadline < heap[left].deadline ? right : left
            guard heap[smaller].deadline < entry.deadline else { break }
            move(smaller, to: parent)
            parent = smaller
        }
        heap[parent] = entry
        slots[Int(entry.slot)].position = parent
    }
}
