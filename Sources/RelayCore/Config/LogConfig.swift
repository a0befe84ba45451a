/// The `log` section: how much the daemon logs and in which line format.
public struct LogConfig: Sendable, Equatable {
    /// Events below this level are dropped (`level`, default `info`); `debug` and `trace` are for chasing a
    /// problem, not for production traffic.
    public var level: Logger.Level
    /// `text` for people reading a terminal, `json` for log collectors (`format`, default `text`).
    public var format: Logger.Format

    public init(level: Logger.Level = .info, format: Logger.Format = .text) {
        self.level = level
        self.format = format
    }

    /// Reads a `log` object, with defaults for absent keys.
    static func read(from node: ConfigReader) -> LogConfig? {
        node.object { fields in
            var config = LogConfig()
            fields.read("level", into: &config.level) { value in
                value.choice(among: Logger.Level.allCases.map(\.description), Logger.Level.init(name:))
            }
            fields.read("format", into: &config.format) { $0.choice(Logger.Format.self) }
            return fields.isValid ? config : nil
        }
    }
}
