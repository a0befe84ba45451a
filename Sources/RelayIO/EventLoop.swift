import CRelayIO
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// One epoll reactor on its own thread, which is also a Swift `TaskExecutor`.
///
/// Connection tasks are started with `executorPreference: loop`, so when epoll reports a socket ready
/// and the parked task is resumed, the task runs right here on the loop thread: no hop to the global
/// executor per wake-up (the "exec" design measured in IO-NOTES.md). Readiness is delivered through the
/// per-fd slots of `IORegistration`; timers (connect and idle deadlines) live in a small heap here.
public final class EventLoop: TaskExecutor, @unchecked Sendable {
    /// Position of this loop in its group; used in logs and thread names.
    public let index: Int
    /// The epoll instance (edge-triggered registrations).
    let epollFD: Int32
    /// An eventfd in the epoll set, written by other threads to wake a sleeping loop.
    private let wakeFD: Int32
    /// The per-loop buffer pool: forwarding code takes a buffer only while bytes are in flight.
    public let buffers: BufferPool

    /// Connections being served on this loop, for spreading new ones across loops.
    public let connections = Atomic<Int>(0)

    /// Identity of the loop thread (`pthread_t`), 0 until it starts; lets `enqueue` skip the lock
    /// and the wake-up when a job is scheduled from the loop itself, the common case.
    private let threadID = Atomic<UInt>(0)
    /// True while the loop is (about to be) blocked in `epoll_wait`: only then must enqueuers wake it.
    private let sleeping = Atomic<Bool>(false)
    /// Set (after the append, under the lock) when another thread enqueued a job, so the loop takes the lock to
    /// collect remote jobs only when there are some.
    private let remoteJobsPending = Atomic<Bool>(false)
    /// The earliest timer deadline, `UInt64.max` for none; written under the lock whenever the timers change, read
    /// without it, so an iteration with no timer due takes no lock for timers.
    private let earliestTimer = Atomic<UInt64>(.max)
    private let stopRequested = Atomic<Bool>(false)

    /// Jobs enqueued from the loop thread itself. Touched only by the loop thread.
    private var localJobs: [UnownedJob] = []
    private var localHead = 0
    /// Jobs and timers handed in from other threads, and the fd → registration table.
    private let shared = SanitizerVisibleMutex<SharedState>(SharedState())
    private var thread: pthread_t?

    private struct SharedState {
        var jobs: [UnownedJob] = []
        var timers = TimerHeap()
        var registrations: [IORegistration?] = []
        var nextGeneration: UInt32 = 1
    }

    /// Creates the loop and starts its thread.
    public init(index: Int, bufferSize: Int = 256 * 1024, cachedBuffers: Int = 64) throws(IOError) {
        self.index = index
        self.buffers = BufferPool(bufferSize: bufferSize, maxCached: cachedBuffers)
        epollFD = try syscall("epoll_create1") { crelay_epoll_create() }
        do {
            wakeFD = try syscall("eventfd") { crelay_eventfd() }
        } catch {
            close(epollFD)
            throw error
        }
        _ = crelay_epoll_ctl(epollFD, CRELAY_EPOLL_CTL_ADD, wakeFD, CRELAY_EPOLLIN, 0)
        localJobs.reserveCapacity(1024)
        startThread()
    }

    deinit {
        close(wakeFD)
        close(epollFD)
    }

    // MARK: - TaskExecutor

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if isCurrent {
            localJobs.append(job)
            return
        }
        shared.withLock { state in
            state.jobs.append(job)
            // Sequentially consistent, like the loop's store to `sleeping` before it looks here: one of the two
            // threads sees the other's store, so a job is never left behind a sleeping loop.
            remoteJobsPending.store(true, ordering: .sequentiallyConsistent)
        }
        if sleeping.load(ordering: .sequentiallyConsistent) { wake() }
    }

    /// True on the loop's own thread.
    public var isCurrent: Bool {
        threadID.load(ordering: .relaxed) == UInt(pthread_self())
    }

    private func wake() {
        _ = crelay_eventfd_signal(wakeFD)
    }

    // MARK: - Registrations

    /// Adds `fd` to this loop's epoll set (edge-triggered, read and write interest) and returns the
    /// slots through which tasks wait for it.
    func register(fd: Int32) throws(IOError) -> IORegistration {
        let registration = shared.withLock { state -> IORegistration in
            let generation = state.nextGeneration
            state.nextGeneration &+= 1
            if state.nextGeneration == 0 { state.nextGeneration = 1 }
            let registration = IORegistration(fd: fd, generation: generation, loop: self)
            let slot = Int(fd)
            if slot >= state.registrations.count {
                state.registrations.append(contentsOf: repeatElement(nil, count: slot - state.registrations.count + 64))
            }
            state.registrations[slot] = registration
            return registration
        }
        let interest = CRELAY_EPOLLIN | CRELAY_EPOLLOUT | CRELAY_EPOLLRDHUP | CRELAY_EPOLLET
        let tag = UInt64(registration.generation) << 32 | UInt64(UInt32(bitPattern: fd))
        do {
            try syscall("epoll_ctl") { crelay_epoll_ctl(epollFD, CRELAY_EPOLL_CTL_ADD, fd, interest, tag) }
        } catch {
            forget(registration)
            throw error
        }
        return registration
    }

    /// Drops the table entry of a registration whose fd is about to be closed. Closing the fd removes
    /// it from the epoll set; events of this batch that still name it are harmless (the slots are
    /// closed), and later events for a reused fd number carry another generation and are ignored.
    func forget(_ registration: IORegistration) {
        shared.withLock { state in
            let slot = Int(registration.fd)
            if slot < state.registrations.count, state.registrations[slot] === registration {
                state.registrations[slot] = nil
            }
        }
    }

    // MARK: - Timers

    /// Runs `action` on the loop thread once `deadline` (CLOCK_MONOTONIC nanoseconds) has passed.
    func schedule(at deadline: UInt64, _ action: @escaping @Sendable () -> Void) -> TimerID {
        schedule(at: deadline, action: .run(action))
    }

    /// Schedules `action` (a closure, or the end of a registration's wait) at `deadline`.
    func schedule(at deadline: UInt64, action: TimerAction) -> TimerID {
        let (id, isEarliest) = shared.withLock { state in
            let id = state.timers.insert(deadline: deadline, action: action)
            let earliest = state.timers.earliestDeadline ?? .max
            // Sequentially consistent for the same reason as `remoteJobsPending`: a timer set from another thread
            // either is seen by a loop going to sleep or finds it sleeping and wakes it.
            earliestTimer.store(earliest, ordering: .sequentiallyConsistent)
            return (id, earliest == deadline)
        }
        if isEarliest, !isCurrent, sleeping.load(ordering: .sequentiallyConsistent) { wake() }
        return id
    }

    /// Cancels a timer if it has not fired yet.
    func cancel(_ timer: TimerID) {
        shared.withLock { state in
            state.timers.cancel(timer)
            earliestTimer.store(state.timers.earliestDeadline ?? .max, ordering: .relaxed)
        }
    }

    /// The loop a new connection accepted on `preferred` should run on: `preferred` itself (no thread
    /// hop) unless another loop serves clearly fewer connections. SO_REUSEPORT spreads connections by
    /// hash, not by load, so one loop can queue work while another idles; this evens that out.
    public static func leastLoaded(preferring preferred: EventLoop, among loops: [EventLoop]) -> EventLoop {
        var best = preferred
        var bestLoad = preferred.connections.load(ordering: .relaxed)
        for loop in loops where loop !== preferred {
            let load = loop.connections.load(ordering: .relaxed)
            if load + 2 < bestLoad {
                best = loop
                bestLoad = load
            }
        }
        return best
    }

    /// Suspends the calling task for `duration` using this loop's timers.
    ///
    /// Unlike `Task.sleep`, this needs no descriptor of its own (Dispatch's timers need one, and
    /// Dispatch aborts the process when it cannot create it), so it is safe while the process is out
    /// of descriptors: the accept back-off relies on that.
    public func sleep(for duration: Duration) async throws {
        let deadline = EventLoop.now() + duration.nanosecondsClamped
        let sleeper = Sleeper()
        try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
                sleeper.park(continuation)
                if Task.isCancelled {
                    sleeper.resume(with: .failure(CancellationError()))
                    return
                }
                let timer = schedule(at: deadline) { sleeper.resume(with: .success(())) }
                sleeper.setTimer(timer)
            }
        } onCancel: {
            sleeper.resume(with: .failure(CancellationError()))
        }
        if let timer = sleeper.timer { cancel(timer) }
    }

    /// Now, on the monotonic clock, in nanoseconds.
    public static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    // MARK: - Lifecycle

    /// Stops the loop thread after the jobs already queued, and waits for it to end.
    public func shutdown() {
        stopRequested.store(true, ordering: .sequentiallyConsistent)
        wake()
        if let thread, !isCurrent {
            pthread_join(thread, nil)
            self.thread = nil
        }
    }

    private func startThread() {
        let box = Unmanaged.passRetained(self)
        var handle = pthread_t()
        let result = pthread_create(&handle, nil, { raw in
            let loop = Unmanaged<EventLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.threadMain()
            return nil
        }, box.toOpaque())
        precondition(result == 0, "pthread_create failed: \(result)")
        thread = handle
    }

    private func threadMain() {
        threadID.store(UInt(pthread_self()), ordering: .sequentiallyConsistent)
        let name = "relay-loop-\(index)"
        crelay_set_thread_name(String(name.prefix(15)))
        let capacity = 256
        let events = UnsafeMutablePointer<crelay_epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        var ready: [(IORegistration, UInt32)] = []
        ready.reserveCapacity(capacity)
        var dueTimers: [TimerAction] = []

        while true {
            runJobs()
            let stopping = stopRequested.load(ordering: .sequentiallyConsistent)
            if stopping, localHead == localJobs.count, shared.withLock({ $0.jobs.isEmpty }) { break }
            let now = EventLoop.now()

            // Decide how long epoll may block: not at all when work is queued, else until the next timer.
            var timeout: Int32 = 0
            if localHead == localJobs.count {
                sleeping.store(true, ordering: .sequentiallyConsistent)
                // `sleeping` is set before this look at the queue: a job enqueued after it finds the loop
                // sleeping and wakes it; one enqueued before it is seen here.
                if remoteJobsPending.load(ordering: .sequentiallyConsistent) {
                    timeout = 0
                } else {
                    let deadline = earliestTimer.load(ordering: .sequentiallyConsistent)
                    if deadline == .max {
                        timeout = -1
                    } else if deadline <= now {
                        timeout = 0
                    } else {
                        timeout = Int32(min((deadline - now + 999_999) / 1_000_000, 60_000))
                    }
                }
                if stopping { timeout = 0 }
            }
            let count = crelay_epoll_wait(epollFD, events, Int32(capacity), timeout)
            sleeping.store(false, ordering: .sequentiallyConsistent)

            if count > 0 {
                // Resolve every event to its registration under one lock, then resume outside it.
                shared.withLock { state in
                    for i in 0..<Int(count) {
                        let tag = events[i].data
                        let fd = Int(UInt32(truncatingIfNeeded: tag))
                        let generation = UInt32(truncatingIfNeeded: tag >> 32)
                        if generation == 0 { continue }  // the wake eventfd
                        if fd < state.registrations.count, let registration = state.registrations[fd],
                           registration.generation == generation {
                            ready.append((registration, events[i].events))
                        }
                    }
                }
                for i in 0..<Int(count) where events[i].data == 0 {
                    _ = crelay_eventfd_drain(wakeFD)
                }
                // By index: for-in over an array of tuples reads each element through a coroutine that, in
                // unoptimized builds, allocates its frame: one malloc per event.
                for index in ready.indices { ready[index].0.deliver(events: ready[index].1) }
                ready.removeAll(keepingCapacity: true)
            }

            let after = EventLoop.now()
            if earliestTimer.load(ordering: .relaxed) <= after {
                shared.withLock { state in
                    state.timers.popDue(now: after, into: &dueTimers)
                    earliestTimer.store(state.timers.earliestDeadline ?? .max, ordering: .relaxed)
                }
            }
            for action in dueTimers { action.fire() }
            dueTimers.removeAll(keepingCapacity: true)
        }
    }

    private func runJobs() {
        if remoteJobsPending.load(ordering: .acquiring) {
            let remote = shared.withLock { state -> [UnownedJob] in
                remoteJobsPending.store(false, ordering: .relaxed)
                if state.jobs.isEmpty { return [] }
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                return jobs
            }
            localJobs.append(contentsOf: remote)
        }
        let executor = asUnownedTaskExecutor()
        // A budget keeps a busy loop polling epoll now and then (a non-blocking epoll_wait is cheap),
        // so sockets that became ready are not kept waiting behind a long run of jobs.
        var budget = 256
        while localHead < localJobs.count, budget > 0 {
            let job = localJobs[localHead]
            localHead += 1
            job.runSynchronously(on: executor)
            budget -= 1
        }
        if localHead == localJobs.count {
            localJobs.removeAll(keepingCapacity: true)
            localHead = 0
        }
    }
}
