import RelayProtocol

/// A structured logger: one line per event, with a level and `key=value` fields, to stderr by default.
///
/// Loggers are cheap values; `with(_:)` returns a copy that adds fields to every line (the listener's
/// name, say), so call sites only name what is specific to the event.
public struct Logger: Sendable {
    /// Severity of an event. Lines below the logger's level are dropped before any formatting.
    public enum Level: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
        case trace, debug, info, warn, error

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        public var description: String {
            switch self {
            case .trace: "trace"
            case .debug: "debug"
            case .info: "info"
            case .warn: "warn"
            case .error: "error"
            }
        }

        /// Parses a level name as written in the config (`"info"`, `"warning"` is accepted for `warn`).
        public init?(name: String) {
            switch name.lowercased() {
            case "trace": self = .trace
            case "debug": self = .debug
            case "info": self = .info
            case "warn", "warning": self = .warn
            case "error": self = .error
            default: return nil
            }
        }
    }

    /// Line format: `text` is `ts=… level=… msg="…" k=v`, `json` is one JSON object a line.
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    /// Events below this level are dropped. Shared by this logger and every copy made from it (`with`), so a
    /// config reload changes it everywhere at once.
    public var level: Level {
        get { settings.level }
        nonmutating set { settings.level = newValue }
    }
    /// How each line is rendered; shared like `level`.
    public var format: Format {
        get { settings.format }
        nonmutating set { settings.format = newValue }
    }
    /// The level and format, shared by this logger's copies.
    public private(set) var settings: LogSettings
    /// Where lines go.
    public let sink: LogSink
    /// Fields added to every line, after the message and before the event's own fields.
    public private(set) var context: [(String, String)] = []

    public init(level: Level = .info, format: Format = .text, sink: LogSink = .standardError) {
        self.settings = LogSettings(level: level, format: format)
        self.sink = sink
    }

    /// A logger that discards everything (for tests and tools that want silence).
    public static var disabled: Logger {
        Logger(level: .error, format: .text, sink: LogSink { _ in })
    }

    /// The parts of relayd that `log.modules` can give a level of their own.
    public static let modules = ["listener", "probing", "selection", "pool", "cluster", "admin", "supervisor",
                                 "multipath"]

    /// A copy of this logger for module `name` (one of `modules`): its level is the module's own when
    /// `log.modules` sets one, else the logger's.
    public func module(_ name: String) -> Logger {
        var copy = self
        copy.settings = settings.module(name)
        return copy
    }

    /// A copy of this logger that adds `fields` to every line.
    public func with(_ fields: KeyValuePairs<String, any CustomStringConvertible>) -> Logger {
        var copy = self
        for (key, value) in fields { copy.context.append((key, value.description)) }
        return copy
    }

    public func isEnabled(_ level: Level) -> Bool { level >= self.level }

    public func trace(_ message: @autoclosure () -> String,
                      _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(.trace) { emit(.trace, message(), fields()) }
    }

    public func debug(_ message: @autoclosure () -> String,
                      _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(.debug) { emit(.debug, message(), fields()) }
    }

    public func info(_ message: @autoclosure () -> String,
                     _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(.info) { emit(.info, message(), fields()) }
    }

    public func warn(_ message: @autoclosure () -> String,
                     _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(.warn) { emit(.warn, message(), fields()) }
    }

    public func error(_ message: @autoclosure () -> String,
                      _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(.error) { emit(.error, message(), fields()) }
    }

    public func log(_ level: Level, _ message: @autoclosure () -> String,
                    _ fields: @autoclosure () -> KeyValuePairs<String, any CustomStringConvertible> = [:]) {
        if isEnabled(level) { emit(level, message(), fields()) }
    }

    /// Logs an event whose fields are only known at run time (a list built in a loop).
    public func log(_ level: Level, _ message: String, fields: [(String, String)]) {
        guard isEnabled(level) else { return }
        sink.write(Logger.render(level: level, message: message, fields: context + fields, format: format,
                                 timestamp: Logger.timestamp()))
    }

    private func emit(_ level: Level, _ message: String, _ fields: KeyValuePairs<String, any CustomStringConvertible>) {
        var all = context
        for (key, value) in fields { all.append((key, value.description)) }
        sink.write(Logger.render(level: level, message: message, fields: all, format: format,
                                 timestamp: Logger.timestamp()))
    }

    /// Renders one line (with its trailing newline). Exposed for tests.
    public static func render(level: Level, message: String, fields: [(String, String)], format: Format,
                              timestamp: String) -> String {
        switch format {
        case .text:
            var line = "ts=\(timestamp) level=\(level) msg=\(quoteIfNeeded(message))"
            for (key, value) in fields { line += " \(key)=\(quoteIfNeeded(value))" }
            return line + "\n"
        case .json:
            var line = "{\"ts\":\"\(timestamp)\",\"level\":\"\(level)\",\"msg\":\(jsonString(message))"
            for (key, value) in fields { line += ",\(jsonString(key)):\(jsonString(value))" }
            return line + "}\n"
        }
    }

    /// Now as a line's `ts`: `2026-01-02T03:04:05.678Z`, UTC, millisecond precision.
    static func timestamp() -> String {
        WallClock.date().iso8601Milliseconds
    }

    static func quoteIfNeeded(_ value: String) -> String {
        if !value.isEmpty, !value.utf8.contains(where: { $0 <= 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "=") || $0 >= 0x7f }) {
            return value
        }
        return jsonString(value)
    }

    static func jsonString(_ value: String) -> String {
        JSONValue.quoted(value)
    }
}
