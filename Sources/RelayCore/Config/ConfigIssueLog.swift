/// Collects the problems found while reading one config, so all of them can be reported together.
///
/// A class because every reader of one parse shares it; it never leaves the parse that created it.
final class ConfigIssueLog {
    private var entries: [(issue: ConfigIssue, position: JSON5Document.Position?)] = []
    /// Where each path sits in the text (`JSON5Document.positions`).
    private let positions: [String: JSON5Document.Position]

    init(positions: [String: JSON5Document.Position] = [:]) {
        self.positions = positions
    }

    var isEmpty: Bool { entries.isEmpty }

    /// Records a problem at `path`. It is located at `path` in the text, or at `anchor` when `path` does not
    /// exist there (a missing key is reported at the object that lacks it).
    func add(_ message: String, at path: String, anchor: String? = nil) {
        add(message, at: path, position: positions[path] ?? anchor.flatMap { positions[$0] })
    }

    /// Records a problem with an explicit position.
    func add(_ message: String, at path: String, position: JSON5Document.Position?) {
        let issue = ConfigIssue(path: path, message: message, line: position?.line, column: position?.column)
        entries.append((issue, position))
    }

    /// The problems in file order; those without a position keep the order they were found in and come last.
    var issues: [ConfigIssue] {
        entries.enumerated().sorted { lhs, rhs in
            switch (lhs.element.position, rhs.element.position) {
            case let (left?, right?): left == right ? lhs.offset < rhs.offset : left < right
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): lhs.offset < rhs.offset
            }
        }.map(\.element.issue)
    }
}
