import RelayIO
import Synchronization

/// A logger's level and format, shared by all its copies and changed in place by a config reload.
///
/// The settings a `Logger` starts with are the root; `module(_:)` gives the settings of one part of relayd
/// (`log.modules`), which follow the root's level unless the config sets one of their own.
public final class LogSettings: Sendable {
    private let packed: Atomic<Int>
    /// The modules' settings, made on first use (root only).
    private let modules = SanitizerVisibleMutex<[String: LogSettings]>([:])
    /// Levels the config sets per module (root only).
    private let overrides = SanitizerVisibleMutex<[String: Logger.Level]>([:])

    init(level: Logger.Level, format: Logger.Format) {
        packed = Atomic(Self.pack(level, format))
    }

    private static func pack(_ level: Logger.Level, _ format: Logger.Format) -> Int {
        level.rawValue | (format == .json ? 0x100 : 0)
    }

    /// Setting it sets the modules' too, except those with a level of their own.
    public var level: Logger.Level {
        get { Logger.Level(rawValue: packed.load(ordering: .relaxed) & 0xFF) ?? .info }
        set { apply(level: newValue, format: format, modules: overrides.withLock { $0 }) }
    }

    public var format: Logger.Format {
        get { packed.load(ordering: .relaxed) & 0x100 != 0 ? .json : .text }
        set { apply(level: level, format: newValue, modules: overrides.withLock { $0 }) }
    }

    /// The settings of module `name`: its own level when the config gives one, else this level; this format.
    func module(_ name: String) -> LogSettings {
        let level = self.level
        let format = self.format
        let override = overrides.withLock { $0[name] }
        return modules.withLock { modules in
            if let existing = modules[name] { return existing }
            let made = LogSettings(level: override ?? level, format: format)
            modules[name] = made
            return made
        }
    }

    /// Sets the level, the format and the modules' own levels (a config load or reload): every module follows.
    public func apply(level: Logger.Level, format: Logger.Format, modules levels: [String: Logger.Level] = [:]) {
        packed.store(Self.pack(level, format), ordering: .relaxed)
        overrides.withLock { $0 = levels }
        modules.withLock { modules in
            for (name, settings) in modules {
                settings.packed.store(Self.pack(levels[name] ?? level, format), ordering: .relaxed)
            }
        }
    }
}
