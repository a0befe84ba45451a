import CRelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

extension HostResolver {
    /// One lookup: its thread, and the continuation that whichever comes first (the answer or a cancellation)
    /// resumes.
    final class Lookup: Sendable {
        private enum State {
            case idle
            case waiting(CheckedContinuation<[SocketAddress], any Error>)
            case cancelled
            case done
        }

        let host: String
        let flags: Int32
        private let state = Mutex<State>(.idle)

        init(host: String, flags: Int32) {
            self.host = host
            self.flags = flags
        }

        /// Starts the lookup thread, unless the task was cancelled before it could start.
        func start(_ continuation: CheckedContinuation<[SocketAddress], any Error>) {
            let cancelled = state.withLock { state in
                if case .cancelled = state { return true }
                state = .waiting(continuation)
                return false
            }
            if cancelled {
                continuation.resume(throwing: CancellationError())
                return
            }
            let context = Unmanaged.passRetained(self)
            var thread = pthread_t()
            let created = pthread_create(&thread, nil, { raw in
                let lookup = Unmanaged<Lookup>.fromOpaque(raw!).takeRetainedValue()
                crelay_set_thread_name("relay-resolve")
                lookup.run()
                return nil
            }, context.toOpaque())
            guard created == 0 else {
                context.release()
                finish(.failure(IOError.syscall(call: "pthread_create", errno: created)))
                return
            }
            pthread_detach(thread)
        }

        /// Gives up waiting: the caller gets `CancellationError` now, and the answer is dropped when it comes.
        func cancel() {
            let waiting = state.withLock { state -> CheckedContinuation<[SocketAddress], any Error>? in
                switch state {
                case .idle:
                    state = .cancelled
                    return nil
                case .waiting(let continuation):
                    state = .done
                    return continuation
                case .cancelled, .done:
                    return nil
                }
            }
            waiting?.resume(throwing: CancellationError())
        }

        /// The body of the lookup thread.
        private func run() {
            do {
                finish(.success(try HostResolver.lookUp(host, flags: flags)))
            } catch {
                finish(.failure(error))
            }
        }

        private func finish(_ result: Result<[SocketAddress], any Error>) {
            let waiting = state.withLock { state -> CheckedContinuation<[SocketAddress], any Error>? in
                guard case .waiting(let continuation) = state else { return nil }
                state = .done
                return continuation
            }
            waiting?.resume(with: result)
        }
    }
}
