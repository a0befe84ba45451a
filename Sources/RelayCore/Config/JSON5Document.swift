/// A config file's JSON5 text (https://spec.json5.org) read into a `ConfigValue` tree, with where each value sits
/// so that problems found while reading the tree can name a line and column.
///
/// This is the one reader of config syntax: `JSON5Parser` builds the tree and `JSON5Scanner` reads its tokens, in a
/// single pass over the text.
struct JSON5Document: Sendable {
    /// A place in the text, 1-based, counting columns in Unicode scalars.
    struct Position: Sendable, Equatable, Comparable {
        var line: Int
        var column: Int

        static func < (lhs: Position, rhs: Position) -> Bool {
            (lhs.line, lhs.column) < (rhs.line, rhs.column)
        }
    }

    /// A key written twice in one object. The tree keeps the first value; the second is almost never what its
    /// author meant to be ignored, so it is reported.
    struct Duplicate: Sendable, Equatable {
        /// The key's path, such as `listeners[0].name`.
        var path: String
        /// Where the second key is written.
        var position: Position
        /// Where the first one is.
        var first: Position
    }

    /// Why the text is not JSON5, and where.
    struct SyntaxError: Error, Sendable, Equatable {
        var message: String
        var position: Position
    }

    /// The top-level value, with every object's members in the order they are written.
    let value: ConfigValue
    /// Where each value starts, by path (`ConfigPath`); for an object member, where its key starts. Values inside a
    /// duplicate key's value are left out: the tree does not hold them.
    let positions: [String: Position]
    /// Keys written more than once, in the order they are met; nested ones inside a duplicate's value are not.
    let duplicates: [Duplicate]

    /// Deeper nesting than this is refused: the parser recurses once per level, and real configs nest four.
    static let maximumDepth = 128

    /// Parses `text`, which must be one JSON5 value with nothing but white space and comments around it.
    init(parsing text: String) throws(SyntaxError) {
        self = try JSON5Parser.parse(text)
    }

    init(value: ConfigValue, positions: [String: Position], duplicates: [Duplicate]) {
        self.value = value
        self.positions = positions
        self.duplicates = duplicates
    }
}
