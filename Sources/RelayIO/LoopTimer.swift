/// One re-armable timer on an event loop: whoever owns many deadlines (a listener's sessions) keeps them in its
/// own schedule and arms this timer for the earliest, instead of putting a timer per deadline in the loop's heap.
///
/// `arm(at:)` only ever moves the deadline earlier, so arming it after every event costs one lock and a compare
/// when the timer is already armed soon enough; a later deadline waits for the timer to fire, and the action
/// arms it again for whatever is next. The action runs on the loop's thread, outside any task, and must not
/// block. `stop()` disarms it for good, so an action never runs after its owner is gone.
public final class LoopTimer: Sendable {
    /// The loop whose timers fire this one.
    public let loop: EventLoop
    /// What runs when the deadline passes.
    private let action: @Sendable () -> Void
    private let state = SanitizerVisibleMutex<State>(State())

    private struct State {
        /// The deadline armed, the loop's id for it, and which arming it was.
        var armed: (deadline: UInt64, id: TimerID, generation: UInt64)?
        /// Counts armings, so a timer cancelled too late to stop its callback is recognised and ignored.
        var generation: UInt64 = 0
        var stopped = false
    }

    /// A timer on `loop` that runs `action` each time an armed deadline passes.
    public init(on loop: EventLoop, _ action: @escaping @Sendable () -> Void) {
        self.loop = loop
        self.action = action
    }

    /// Makes the timer fire at `deadline` (CLOCK_MONOTONIC nanoseconds; a past one fires at the loop's next turn)
    /// unless it is already armed at or before it.
    public func arm(at deadline: UInt64) {
        state.withLock { state in
            guard !state.stopped else { return }
            if let armed = state.armed {
                if armed.deadline <= deadline { return }
                loop.cancel(armed.id)
            }
            state.generation &+= 1
            let generation = state.generation
            let id = loop.schedule(at: deadline) { [weak self] in self?.fire(generation) }
            state.armed = (deadline, id, generation)
        }
    }

    /// The deadline armed now, if any.
    public var deadline: UInt64? {
        state.withLock { $0.armed?.deadline }
    }

    /// Disarms the timer for good: later `arm` calls do nothing, and a callback already due does not run the action.
    public func stop() {
        state.withLock { state in
            state.stopped = true
            if let armed = state.armed { loop.cancel(armed.id) }
            state.armed = nil
        }
    }

    private func fire(_ generation: UInt64) {
        let current = state.withLock { state -> Bool in
            guard !state.stopped, let armed = state.armed, armed.generation == generation else { return false }
            state.armed = nil
            return true
        }
        if current { action() }
    }
}
