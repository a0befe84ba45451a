import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// Delivers process signals to a Swift closure, on a thread of its own.
///
/// A plain `sigaction` handler (async-signal-safe: it only counts and writes to an eventfd) catches
/// the signals wherever they land, so no thread has to block them and none can be killed by a default
/// action; the watcher thread reads the eventfd and calls `handler` once per signal received.
/// Install it first thing in `main`, so a signal that arrives during start-up is not lost.
public final class SignalWatcher: Sendable {
    /// The signals handled.
    public let signals: [Int32]

    /// Starts watching `signals`; `handler` runs on the watcher thread, once per delivery.
    public init(signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) throws(IOError) {
        self.signals = signals
        let fd = try syscall("sigaction") { signals.withUnsafeBufferPointer { crelay_signals_install($0.baseAddress, Int32($0.count)) } }
        let context = Unmanaged.passRetained(Context(fd: fd, signals: signals, handler: handler))
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { raw in
            let context = Unmanaged<Context>.fromOpaque(raw!).takeRetainedValue()
            crelay_set_thread_name("relay-signals")
            context.run()
            return nil
        }, context.toOpaque())
        guard created == 0 else {
            context.release()
            throw IOError.syscall(call: "pthread_create", errno: created)
        }
        pthread_detach(thread)
    }

    /// What the watcher thread needs, handed to it retained through `pthread_create`'s context pointer.
    private final class Context: Sendable {
        let fd: Int32
        let signals: [Int32]
        let handler: @Sendable (Int32) -> Void

        init(fd: Int32, signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
            self.fd = fd
            self.signals = signals
            self.handler = handler
        }

        func run() {
            var value: UInt64 = 0
            while true {
                let count = read(fd, &value, MemoryLayout<UInt64>.size)
                if count < 0, errno == EINTR { continue }
                if count < 0 { return }
                for signal in signals {
                    for _ in 0..<crelay_signal_take(signal) { handler(signal) }
                }
            }
        }
    }
}
