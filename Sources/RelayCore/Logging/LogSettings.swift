import Synchronization

/// A logger's level and format, shared by all its copies and changed in place by a config reload.
public final class LogSettings: Sendable {
    private let packed: Atomic<Int>

    init(level: Logger.Level, format: Logger.Format) {
        packed = Atomic(Self.pack(level, format))
    }

    private static func pack(_ level: Logger.Level, _ format: Logger.Format) -> Int {
        level.rawValue | (format == .json ? 0x100 : 0)
    }

    public var level: Logger.Level {
        get { Logger.Level(rawValue: packed.load(ordering: .relaxed) & 0xFF) ?? .info }
        set { packed.store(Self.pack(newValue, format), ordering: .relaxed) }
    }

    public var format: Logger.Format {
        get { packed.load(ordering: .relaxed) & 0x100 != 0 ? .json : .text }
        set { packed.store(Self.pack(level, newValue), ordering: .relaxed) }
    }
}
