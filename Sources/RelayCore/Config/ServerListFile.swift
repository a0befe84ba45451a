/// A server list file, named by a group's `servers_file`: one server per line, in any form `servers` accepts,
/// optionally followed by its weight.
///
/// ```
/// # web servers
/// 10.0.0.1:8080
/// 10.0.0.2:8080 weight=3    # the bigger machine
/// app.internal              # default_port
/// 10.0.1.0/28               # 14 servers on default_port
/// ```
///
/// `#` starts a comment anywhere on a line; blank lines are skipped and spaces around an entry are ignored. Each
/// problem is reported with the file's name and line, and reading goes on so one pass reports them all.
public enum ServerListFile {
    /// At most this many problems are listed for one file, then a count of the rest: a file that is not a server
    /// list at all would otherwise bury every other message.
    static let maximumIssues = 20

    /// Reads the entries of a server list. `name` is used in origins and messages (`servers.txt:14`);
    /// `defaultPort` is the group's `default_port`, for entries written without a port. Each problem is an issue
    /// whose path is `name:line`. An empty list is not an error here; the group decides whether it has enough.
    public static func parse(text: String, name: String, defaultPort: UInt16?) -> Result<[ServerEntry], ConfigError> {
        var builder = ServerListBuilder()
        var issues: [ConfigIssue] = []
        read(text: text, name: name, defaultPort: defaultPort, into: &builder) { location, message in
            issues.append(ConfigIssue(path: location, message: message))
        }
        return issues.isEmpty ? .success(builder.entries) : .failure(ConfigError(issues: issues))
    }

    /// Reads the server list at `path`, naming it `name` (by default `path`) in origins and messages. A file that
    /// cannot be read is one issue with an empty path, saying why.
    public static func load(path: String, name: String? = nil, defaultPort: UInt16?)
        -> Result<[ServerEntry], ConfigError> {
        let name = name ?? path
        let text: String
        do {
            text = try TextFile.read(path, kind: "a server list")
        } catch {
            return .failure(ConfigError(path: "", message: unreadableMessage(name: name, path: path, error: error)))
        }
        return parse(text: text, name: name, defaultPort: defaultPort)
    }

    /// "cannot read the server list …" for a file that could not be read, naming the path it was looked for at
    /// when that differs from the name it was given.
    static func unreadableMessage(name: String, path: String, error: TextFile.Failure) -> String {
        let place = name == path ? "" : " (at \(Logger.jsonString(path)))"
        return "cannot read the server list \(Logger.jsonString(name))\(place): \(error.reason)"
    }

    /// Adds the entries of `text` to `builder`, so the servers of a group's file are checked against its other
    /// servers; calls `report` with `name:line` and a message for each problem.
    static func read(text: String, name: String, defaultPort: UInt16?, into builder: inout ServerListBuilder,
                     report: (_ location: String, _ message: String) -> Void) {
        var problems = 0
        func problem(_ line: Int, _ message: String) {
            problems += 1
            if problems <= maximumIssues { report("\(name):\(line)", message) }
        }
        // Any line break counts, so a file saved with CRLF reads the same; a leading byte-order mark is skipped.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        for (index, rawLine) in lines.enumerated() {
            guard !builder.isFull else { break }
            let number = index + 1
            var line = rawLine
            if index == 0, line.first == "\u{FEFF}" { line = line.dropFirst() }
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let words = line.split(whereSeparator: \.isWhitespace)
            guard let entry = words.first else { continue }

            var parsed: ServerSpec.Parsed?
            do {
                parsed = try ServerSpec.parse(String(entry), defaultPort: defaultPort)
            } catch {
                problem(number, "\(Logger.jsonString(String(entry))) is not a server address: \(error.message)")
            }
            var weight = 1
            var weightWord: Substring?
            var weightIsValid = true
            for word in words.dropFirst() {
                guard word.hasPrefix("weight=") else {
                    problem(number, "unexpected `\(word)` after the server; only `weight=N` may follow it (a "
                            + "comment starts with `#`)")
                    weightIsValid = false
                    continue
                }
                if let weightWord {
                    problem(number, "the weight is given twice (`\(weightWord)` and `\(word)`); keep one")
                    weightIsValid = false
                    continue
                }
                weightWord = word
                let value = word.dropFirst("weight=".count)
                guard let valid = readWeight(value) else {
                    problem(number, "expected a weight from \(ServerEntry.weights.lowerBound) to "
                            + "\(ServerEntry.weights.upperBound) after `weight=`, found "
                            + (value.isEmpty ? "nothing" : "`\(value)`"))
                    weightIsValid = false
                    continue
                }
                weight = valid
            }
            guard let parsed, weightIsValid else { continue }
            if let message = builder.add(parsed, weight: weight, origin: "\(name):\(number)") {
                problem(number, message)
            }
        }
        if problems > maximumIssues {
            report(name, "\(problems - maximumIssues) more problems in this file are not shown")
        }
    }

    /// The number after `weight=`, if it is a whole number in `ServerEntry.weights`.
    private static func readWeight(_ text: Substring) -> Int? {
        guard text.allSatisfy({ ("0"..."9").contains($0) }), text.count <= 4, let weight = Int(text),
              ServerEntry.weights.contains(weight) else { return nil }
        return weight
    }
}
