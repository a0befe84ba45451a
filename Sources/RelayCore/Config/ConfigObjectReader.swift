/// Reads the keys of one config object, remembering which keys were asked for so the rest can be reported as
/// unknown, with a "did you mean" when one is close to a known key.
///
/// Known keys are exactly the ones the reading code asks for, so there is no second list of keys to keep in
/// step. A class because the reading closures and `ConfigReader.object` share one record of what was asked.
final class ConfigObjectReader {
    /// The object itself, for its path and issue log.
    let node: ConfigReader
    private let members: [(key: String, value: ConfigValue)]
    /// Keys asked for so far, in the order asked; the candidates for suggestions.
    private var knownKeys: [String] = []
    /// Keys that were required but missing, or had a bad value. Cross-checks that depend on one of them are
    /// skipped: its problem is already reported, and a check on a placeholder would only add a confusing one.
    private(set) var failedKeys: Set<String> = []

    /// Whether every key that was read was present when required and valid.
    var isValid: Bool { failedKeys.isEmpty }

    init(node: ConfigReader, members: [(key: String, value: ConfigValue)]) {
        self.node = node
        self.members = members
    }

    /// The value at `key`, or nil if it is absent. Marks `key` as known.
    func optional(_ key: String) -> ConfigReader? {
        if !knownKeys.contains(key) { knownKeys.append(key) }
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        return ConfigReader(value: member.value, path: ConfigPath.key(key, in: node.path), log: node.log)
    }

    /// Reads the required `key` with `convert`, recording a problem (which says what `key` is, from `description`)
    /// if it is missing.
    func required<T>(_ key: String, _ description: String, _ convert: (ConfigReader) -> T?) -> T? {
        guard let child = optional(key) else {
            failedKeys.insert(key)
            node.log.add("missing; this key is required (\(description))", at: ConfigPath.key(key, in: node.path),
                         anchor: node.path)
            return nil
        }
        let result = convert(child)
        if result == nil { failedKeys.insert(key) }
        return result
    }

    /// Reads `key` with `convert` into `target` if it is present; leaves `target` (the default) alone otherwise.
    func read<T>(_ key: String, into target: inout T, _ convert: (ConfigReader) -> T?) {
        guard let child = optional(key) else { return }
        if let result = convert(child) { target = result } else { failedKeys.insert(key) }
    }

    /// Reads `key` into an optional setting, which stays nil when the key is absent.
    func read<T>(_ key: String, into target: inout T?, _ convert: (ConfigReader) -> T?) {
        guard let child = optional(key) else { return }
        if let result = convert(child) { target = result } else { failedKeys.insert(key) }
    }

    /// Records a problem with `key` that its own conversion cannot see (it clashes with another key, or it is
    /// missing where other keys make it necessary), and marks `key` as failed.
    func reject(_ key: String, _ message: String) {
        failedKeys.insert(key)
        node.log.add(message, at: ConfigPath.key(key, in: node.path), anchor: node.path)
    }

    /// Marks `key` as failed when the code reading it has already reported its problems.
    func markFailed(_ key: String) {
        failedKeys.insert(key)
    }

    /// Records every key that was never asked for.
    func rejectUnknownKeys() {
        for member in members where !knownKeys.contains(member.key) {
            let hint = Spelling.suggestion(for: member.key, among: knownKeys).map { "did you mean `\($0)`?" }
                ?? "the keys here are " + knownKeys.map { "`\($0)`" }.joined(separator: ", ")
            node.log.add("unknown key; \(hint)", at: ConfigPath.key(member.key, in: node.path))
        }
    }
}
