import CRelayIO

#if canImport(Glibc)
import Glibc
#endif

/// A task executor with threads of its own, for tests that compute for long stretches without awaiting
/// (see `ComputeBoundTrait`) or block a thread on purpose (`blockingExecutor`). Several threads, so that a test
/// whose child tasks race each other (concurrent picks, concurrent counter increments) still runs them in
/// parallel. The threads are never stopped: code that a task runs after leaving an actor may go on on whatever
/// thread ran the actor, and a thread cannot join itself.
final class ComputeThreads: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `head` are only touched with `mutex` held.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let available = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var jobs: [UnownedJob] = []
    /// The index in `jobs` of the next job to run: a queue without shifting the array on every take.
    private var head = 0

    /// Starts `count` threads, named `name-0`, `name-1`..., that live as long as the process.
    ///
    /// At normal priority: a lower one (a nice value) would be inherited by the threads the cooperative pool starts
    /// from these when a task here enqueues work, and starve the pool itself on a busy machine.
    init(count: Int, name: String) {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(available, nil)
        for index in 0..<count {
            let context = Unmanaged.passRetained(Worker(threads: self, name: "\(name)-\(index)"))
            var handle = pthread_t()
            let created = pthread_create(&handle, nil, { raw in
                Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue().run()
                return nil
            }, context.toOpaque())
            precondition(created == 0, "pthread_create failed: \(created)")
            pthread_detach(handle)
        }
    }

    /// What a new thread needs to become a worker.
    private final class Worker {
        let threads: ComputeThreads
        let name: String

        init(threads: ComputeThreads, name: String) {
            self.threads = threads
            self.name = name
        }

        func run() {
            crelay_set_thread_name(String(name.prefix(15)))
            threads.work()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        pthread_mutex_lock(mutex)
        jobs.append(job)
        pthread_cond_signal(available)
        pthread_mutex_unlock(mutex)
    }

    fileprivate func work() {
        while true {
            pthread_mutex_lock(mutex)
            while head == jobs.count { pthread_cond_wait(available, mutex) }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            pthread_mutex_unlock(mutex)
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// A thread of its own for a task that blocks its thread on purpose (a test keeping an actor busy, as a long
/// critical section would), so that the cooperative threads every test shares stay free; never stopped.
public let blockingExecutor: any TaskExecutor = ComputeThreads(count: 1, name: "blocking")
