/// Why `Supervisor.run()` stopped abnormally, or why `Supervisor.add(_:)` refused a service.
public enum SupervisorError: Error, Equatable, CustomStringConvertible {
    /// A service kept failing: it was restarted `restarts` times inside `window` (the policy's
    /// `maxRestarts`) and failed again. Every other service was stopped; `lastError` describes the final
    /// failure.
    case restartIntensityExceeded(service: String, restarts: Int, window: Duration, lastError: String)
    /// Two services share a name; names must be unique because logs, `remove(_:)` and restart
    /// accounting go by name.
    case duplicateServiceName(String)
    /// `add(_:)` was called after shutdown began (or after `run()` ended), so the service would never run.
    case shuttingDown(service: String)

    public var description: String {
        switch self {
        case let .restartIntensityExceeded(service, restarts, window, lastError):
            return "service '\(service)' keeps failing: restarted \(restarts) time\(restarts == 1 ? "" : "s") "
                + "within \(DurationParser.format(window)) and failed again (last error: \(Self.oneLine(lastError))); "
                + "fix the cause, or allow more restarts in the restart policy"
        case let .duplicateServiceName(name):
            return "more than one service is named '\(name)'; service names must be unique, rename one of them"
        case let .shuttingDown(service):
            return "cannot add service '\(service)': the supervisor is shutting down or has stopped"
        }
    }

    /// Error descriptions can span lines; the description must stay on one.
    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
