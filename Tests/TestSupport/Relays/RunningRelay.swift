import Foundation
import RelayCore
import RelayIO
import Testing

/// A relay server running in-process, started from JSON5 text; `stop()` shuts it down gracefully.
///
/// Prefer `withRelay` and `withReloadableRelay`, which stop it on every path.
public final class RunningRelay: Sendable {
    public let server: RelayServer
    private let task: Task<Result<Void, any Error>, Never>
    /// Everything the relay logged.
    public let logs: LogCapture

    /// With `configPath`, the config is read from that file (so `reload()` can read it again) and
    /// `configText` is ignored.
    public init(_ configText: String, configPath: String? = nil, level: Logger.Level = .debug) throws {
        let config = try configPath.map { try RelayConfig.load(path: $0) } ?? RelayConfig.parse(configText)
        let logs = LogCapture()
        let server = try RelayServer(config: config, configPath: configPath,
                                     logger: Logger(level: level, sink: .capture(logs)), restartPolicy: RestartPolicy())
        self.logs = logs
        self.server = server
        self.task = Task {
            do {
                try await server.run()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    /// The bound address of the listener called `listener`.
    public func address(_ listener: String) throws -> SocketAddress {
        try #require(server.address(of: listener))
    }

    /// Waits until backend group `group` has at least `count` servers in its active set: the relay drops what it
    /// cannot send anywhere, so a test whose first datagram must be answered waits for this first (the initial
    /// probe of a starved test process can fail, and the server then joins at a later round).
    public func waitForActiveServers(_ group: String, count: Int = 1, within limit: Duration = .seconds(30),
                                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let backends = try #require(server.backendGroups[group], sourceLocation: sourceLocation)
        try await eventually("\(count) server(s) of \(group) in the active set", within: limit,
                             sourceLocation: sourceLocation) {
            backends.selector.current.servers.count >= count
        }
    }

    /// Graceful shutdown (idempotent); returns how `run()` ended. Throws `TestTimeout` if the relay does not stop
    /// within `limit`: a relay that cannot shut down is a bug to report, not to wait out.
    @discardableResult
    public func stop(within limit: Duration = .seconds(30)) async throws -> Result<Void, any Error> {
        server.shutdown()
        let task = self.task
        return try await withTimeout(limit, "the relay to shut down") { await task.value }
    }

    /// The last lines of the relay's log, for a failure report; the selector's "active set kept", logged at every
    /// probe round, is left out (it would fill the tail and hide what happened).
    public func logTail(_ count: Int = 80) -> String {
        logs.lines.filter { !$0.contains("msg=\"active set kept\"") }.suffix(count).joined(separator: "\n")
    }
}

/// Runs `body` with a relay started from `configText`, and shuts the relay down gracefully when `body` returns or
/// throws; on failure the relay's log is recorded, the first thing to read when a relay test fails. `body` may stop
/// the relay itself (to check how it stops); stopping again is harmless.
public func withRelay<T>(_ configText: String, level: Logger.Level = .debug,
                         _ body: (RunningRelay) async throws -> T) async throws -> T {
    let relay = try RunningRelay(configText, level: level)
    do {
        let value = try await body(relay)
        try await relay.stop()
        return value
    } catch {
        _ = try? await relay.stop()
        Issue.record("relay log:\n\(relay.logTail())")
        throw error
    }
}

/// Runs `body` with a relay started from `configText` written to a temporary file (so `reload()` can read the file
/// again after `body` rewrites it), within `limit`, and shuts the relay down when `body` returns or throws; on
/// failure the relay's log is recorded.
public func withReloadableRelay(_ configText: String, limit: Duration = .seconds(60),
                                _ body: @escaping @Sendable (RunningRelay, String) async throws -> Void) async throws {
    let path = try temporaryFile(configText)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let relay = try RunningRelay("", configPath: path)
    do {
        try await withTimeout(limit, "the reloadable relay's test body") { try await body(relay, path) }
        try await relay.stop()
    } catch {
        _ = try? await relay.stop()
        Issue.record("relay log:\n\(relay.logTail())")
        throw error
    }
}
