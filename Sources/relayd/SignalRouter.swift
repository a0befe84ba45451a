import RelayCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What a signal does once the server exists. Signals are caught from the start of `serve`; one that
/// arrives before the server is built is kept and acted on as soon as it is.
final class SignalRouter: Sendable {
    private let state = Mutex<(server: RelayServer?, logger: Logger?, pendingStop: String?)>((nil, nil, nil))
    /// SIGINT and SIGTERM received so far: the second exits at once.
    private let stops = Atomic<Int>(0)

    func attach(server: RelayServer, logger: Logger) {
        let pending = state.withLock { state -> String? in
            state.server = server
            state.logger = logger
            return state.pendingStop
        }
        if let pending {
            logger.info("signal received during start-up; shutting down gracefully", ["signal": pending])
            server.shutdown()
        }
    }

    func handle(_ signal: Int32) {
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "\(signal)"
        let (server, logger) = state.withLock { ($0.server, $0.logger) }
        if signal == SIGHUP {
            guard let server, let logger else { return }
            logger.info("SIGHUP received; reloading the config", ["config": server.configPath ?? "-"])
            Task { await server.reload() }
            return
        }
        if stops.add(1, ordering: .relaxed).newValue > 1 {
            logger?.warn("second signal; exiting at once", ["signal": name])
            exit(ExitCode.failure.rawValue)
        }
        guard let server, let logger else {
            state.withLock { $0.pendingStop = name }
            return
        }
        logger.info("signal received; shutting down gracefully (send again to exit at once)", ["signal": name])
        server.shutdown()
    }
}
