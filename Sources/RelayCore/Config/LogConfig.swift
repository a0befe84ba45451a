/// The `log` section: how much the daemon logs and in which line format.
public struct LogConfig: Sendable, Equatable {
    /// Events below this level are dropped (`level`, default `info`); `debug` and `trace` are for chasing a
    /// problem, not for production traffic.
    public var level: Logger.Level
    /// `text` for people reading a terminal, `json` for log collectors (`format`, default `text`).
    public var format: Logger.Format
    /// Whether to write one access-log line per finished connection and expired UDP flow (`access`, default
    /// false): time, listener, client, server, bytes each way, duration and how it ended, in `format`.
    public var access: Bool
    /// Where access-log lines go (`access_file`, default none: standard error with the other lines). Setting
    /// it turns `access` on. The file is opened for appending, and opened again on each reload (log rotation).
    public var accessFile: String?
    /// Where the daemon's own lines go (`output`: "stderr", "stdout" or a file path, default "stderr"). A file is
    /// appended to, and opened again on each reload and SIGHUP (log rotation).
    public var output: LogOutput.Target = .standardError
    /// Levels of their own for parts of relayd (`modules`, such as `{ probing: "debug" }`; names in
    /// `Logger.modules`); the others log at `level`.
    public var modules: [String: Logger.Level] = [:]

    public init(level: Logger.Level = .info, format: Logger.Format = .text, access: Bool = false,
                accessFile: String? = nil) {
        self.level = level
        self.format = format
        self.access = access || accessFile != nil
        self.accessFile = accessFile
    }

    /// Reads a `log` object, with defaults for absent keys; a relative `access_file` is taken from
    /// `baseDirectory`.
    static func read(from node: ConfigReader, baseDirectory: String = ".") -> LogConfig? {
        node.object { fields in
            var config = LogConfig()
            fields.read("level", into: &config.level) { value in
                value.choice(among: Logger.Level.allCases.map(\.description), Logger.Level.init(name:))
            }
            fields.read("format", into: &config.format) { $0.choice(Logger.Format.self) }
            fields.read("access", into: &config.access) { $0.bool() }
            fields.read("access_file", into: &config.accessFile) { accessFile(from: $0, baseDirectory: baseDirectory) }
            if config.accessFile != nil { config.access = true }
            fields.read("output", into: &config.output) { output(from: $0, baseDirectory: baseDirectory) }
            fields.read("modules", into: &config.modules) { node in
                node.object { modules in
                    var levels: [String: Logger.Level] = [:]
                    for name in Logger.modules {
                        modules.read(name, into: &levels[name]) { value in
                            value.choice(among: Logger.Level.allCases.map(\.description), Logger.Level.init(name:))
                        }
                    }
                    return modules.isValid ? levels : nil
                }
            }
            return fields.isValid ? config : nil
        }
    }

    private static func output(from value: ConfigReader, baseDirectory: String) -> LogOutput.Target? {
        guard case .string(let text) = value.value, !text.isEmpty else {
            return value.expected("\"stderr\", \"stdout\" or the path of a file to append log lines to")
        }
        switch text {
        case "stderr": return .standardError
        case "stdout": return .standardOutput
        default: return .file(TextFile.resolve(text, in: baseDirectory))
        }
    }

    private static func accessFile(from value: ConfigReader, baseDirectory: String) -> String? {
        guard case .string(let text) = value.value, !text.isEmpty else {
            return value.expected("the path of a file to append access-log lines to, such as \"access.log\"")
        }
        return TextFile.resolve(text, in: baseDirectory)
    }
}
