/// A structural pass over JSON5 text that records what Foundation's `JSONDecoder` does not keep: the order of the
/// keys in each object, where each key and value sits, keys written twice, and where a syntax error is.
///
/// Values themselves are left to the decoder; this pass only needs to find their ends. It follows JSON5 closely
/// enough to agree with the decoder on real configs; where the two ever disagree, the decoder wins (a config the
/// decoder accepts but this pass rejects only loses key order and line numbers).
struct JSON5Outline {
    /// A place in the text, 1-based, counting columns in Unicode scalars.
    struct Position: Sendable, Equatable, Comparable {
        var line: Int
        var column: Int

        static func < (lhs: Position, rhs: Position) -> Bool {
            (lhs.line, lhs.column) < (rhs.line, rhs.column)
        }
    }

    /// A key written twice in one object. The decoder silently keeps one of the values, which is never what the
    /// author of the second one meant.
    struct Duplicate: Sendable, Equatable {
        var path: String
        var position: Position
        var first: Position
    }

    /// Why the text is not JSON5, and where.
    struct SyntaxError: Error, Sendable, Equatable {
        var message: String
        var position: Position
    }

    /// The keys of each object in the order they are written, by the object's path.
    private(set) var keyOrder: [String: [String]] = [:]
    /// Where each value starts, by path; for an object member, where its key starts.
    private(set) var positions: [String: Position] = [:]
    /// Keys written more than once, in the order they are met.
    private(set) var duplicates: [Duplicate] = []

    /// Deeper nesting than this is refused rather than risking the stack; real configs nest four levels.
    static let maximumDepth = 128

    init(scanning text: String) throws(SyntaxError) {
        var cursor = Cursor(text)
        try cursor.skipTrivia()
        guard cursor.current != nil else {
            throw SyntaxError(message: "the file has no value; a config with every default is written `{}`",
                              position: cursor.position)
        }
        try scanValue(&cursor, path: "", depth: 0, record: true)
        try cursor.skipTrivia()
        if let extra = cursor.current {
            throw SyntaxError(message: "unexpected \(Cursor.describe(extra)) after the end of the top-level value",
                              position: cursor.position)
        }
    }

    private mutating func scanValue(_ cursor: inout Cursor, path: String, depth: Int, record: Bool)
        throws(SyntaxError) {
        if record, positions[path] == nil { positions[path] = cursor.position }
        guard let scalar = cursor.current else {
            throw SyntaxError(message: "the file ends where a value was expected", position: cursor.position)
        }
        switch scalar {
        case "{":
            try scanObject(&cursor, path: path, depth: depth + 1, record: record)
        case "[":
            try scanArray(&cursor, path: path, depth: depth + 1, record: record)
        case "\"", "'":
            _ = try cursor.readString()
        case "0"..."9", "-", "+", ".":
            try cursor.readNumber()
        default:
            let start = cursor.position
            let word = try cursor.readIdentifier()
            guard ["true", "false", "null", "Infinity", "NaN"].contains(word) else {
                if word.isEmpty {
                    throw SyntaxError(message: "unexpected \(Cursor.describe(scalar)) where a value was expected",
                                      position: start)
                }
                throw SyntaxError(message: "unexpected word `\(word)`; a string value must be quoted",
                                  position: start)
            }
        }
    }

    private mutating func scanObject(_ cursor: inout Cursor, path: String, depth: Int, record: Bool)
        throws(SyntaxError) {
        let open = cursor.position
        guard depth <= JSON5Outline.maximumDepth else {
            throw SyntaxError(message: "values are nested too deeply", position: open)
        }
        cursor.advance()
        var keys: [String] = []
        var seen: [String: Position] = [:]
        while true {
            try cursor.skipTrivia()
            guard let scalar = cursor.current else {
                throw SyntaxError(message: "the file ends inside the object opened at line \(open.line), column "
                                  + "\(open.column); a `}` is missing", position: cursor.position)
            }
            if scalar == "}" {
                cursor.advance()
                break
            }
            let keyPosition = cursor.position
            let key: String
            if scalar == "\"" || scalar == "'" {
                key = try cursor.readString()
            } else {
                key = try cursor.readIdentifier()
                if key.isEmpty {
                    throw SyntaxError(message: "expected a key (a name or a quoted string) or `}`, found "
                                      + Cursor.describe(scalar), position: keyPosition)
                }
            }
            let memberPath = ConfigPath.key(key, in: path)
            var recordMember = record
            if let first = seen[key] {
                if record { duplicates.append(Duplicate(path: memberPath, position: keyPosition, first: first)) }
                recordMember = false
            } else {
                seen[key] = keyPosition
                keys.append(key)
                if record { positions[memberPath] = keyPosition }
            }
            try cursor.skipTrivia()
            guard cursor.current == ":" else {
                throw SyntaxError(message: "expected `:` after the key `\(key)`, found "
                                  + Cursor.describe(cursor.current), position: cursor.position)
            }
            cursor.advance()
            try cursor.skipTrivia()
            try scanValue(&cursor, path: memberPath, depth: depth, record: recordMember)
            try cursor.skipTrivia()
            if cursor.current == "," {
                cursor.advance()
                continue
            }
            if cursor.current == "}" {
                cursor.advance()
                break
            }
            if cursor.current == nil {
                throw SyntaxError(message: "the file ends inside the object opened at line \(open.line), column "
                                  + "\(open.column); a `}` is missing", position: cursor.position)
            }
            throw SyntaxError(message: "expected `,` or `}` after the value of `\(key)`, found "
                              + Cursor.describe(cursor.current), position: cursor.position)
        }
        if record { keyOrder[path] = keys }
    }

    private mutating func scanArray(_ cursor: inout Cursor, path: String, depth: Int, record: Bool)
        throws(SyntaxError) {
        let open = cursor.position
        guard depth <= JSON5Outline.maximumDepth else {
            throw SyntaxError(message: "values are nested too deeply", position: open)
        }
        cursor.advance()
        var index = 0
        while true {
            try cursor.skipTrivia()
            guard let scalar = cursor.current else {
                throw SyntaxError(message: "the file ends inside the array opened at line \(open.line), column "
                                  + "\(open.column); a `]` is missing", position: cursor.position)
            }
            if scalar == "]" {
                cursor.advance()
                return
            }
            try scanValue(&cursor, path: ConfigPath.index(index, in: path), depth: depth, record: record)
            index += 1
            try cursor.skipTrivia()
            if cursor.current == "," {
                cursor.advance()
                continue
            }
            if cursor.current == "]" {
                cursor.advance()
                return
            }
            if cursor.current == nil {
                throw SyntaxError(message: "the file ends inside the array opened at line \(open.line), column "
                                  + "\(open.column); a `]` is missing", position: cursor.position)
            }
            throw SyntaxError(message: "expected `,` or `]` after an array element, found "
                              + Cursor.describe(cursor.current), position: cursor.position)
        }
    }

    /// Reads the text one Unicode scalar at a time, keeping track of the line and column.
    private struct Cursor {
        let scalars: [Unicode.Scalar]
        var index = 0
        var line = 1
        var lineStart = 0

        init(_ text: String) {
            scalars = Array(text.unicodeScalars)
            if scalars.first == "\u{FEFF}" { index = 1; lineStart = 1 }
        }

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        var position: Position { Position(line: line, column: index - lineStart + 1) }

        func peek(_ offset: Int) -> Unicode.Scalar? {
            index + offset < scalars.count ? scalars[index + offset] : nil
        }

        mutating func advance() {
            let scalar = scalars[index]
            index += 1
            // A CR LF pair ends one line, at the LF.
            if Cursor.isLineTerminator(scalar), !(scalar == "\r" && current == "\n") {
                line += 1
                lineStart = index
            }
        }

        static func isLineTerminator(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\n" || scalar == "\r" || scalar == "\u{2028}" || scalar == "\u{2029}"
        }

        /// How a character is named in a message: `` `@` ``, `U+00A0 (no-break space)`, or "the end of the file".
        static func describe(_ scalar: Unicode.Scalar?) -> String {
            guard let scalar else { return "the end of the file" }
            let code = String(scalar.value, radix: 16, uppercase: true)
            let hex = String(repeating: "0", count: max(0, 4 - code.count)) + code
            if scalar.value < 0x20 || scalar.value == 0x7f { return "a control character (U+\(hex))" }
            if scalar.value > 0x7f, scalar.properties.isWhitespace || !scalar.properties.isAlphabetic {
                return "U+\(hex)" + (scalar.properties.name.map { " (\($0.lowercased()))" } ?? "")
            }
            return scalar == "`" ? "a backquote" : "`\(scalar)`"
        }

        /// Skips white space and comments.
        mutating func skipTrivia() throws(SyntaxError) {
            while let scalar = current {
                switch scalar {
                case " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{2028}", "\u{2029}", "\u{FEFF}":
                    advance()
                case "/" where peek(1) == "/":
                    while let next = current, !Cursor.isLineTerminator(next) { advance() }
                case "/" where peek(1) == "*":
                    let start = position
                    advance()
                    advance()
                    while current != nil, !(current == "*" && peek(1) == "/") { advance() }
                    guard current != nil else {
                        throw SyntaxError(message: "the comment is never closed with `*/`", position: start)
                    }
                    advance()
                    advance()
                default:
                    return
                }
            }
        }

        /// Reads a quoted string (either quote) and returns its decoded text, so keys can be matched with what
        /// the decoder returns.
        mutating func readString() throws(SyntaxError) -> String {
            let start = position
            let quote = scalars[index]
            advance()
            var text = String.UnicodeScalarView()
            while true {
                guard let scalar = current else {
                    throw SyntaxError(message: "the string is never closed with \(quote)", position: start)
                }
                if scalar == quote {
                    advance()
                    return String(text)
                }
                if scalar == "\n" || scalar == "\r" {
                    throw SyntaxError(message: "line break inside a string; write `\\n`, or end the line with `\\` "
                                      + "to continue the string", position: position)
                }
                // JSON5 allows other control characters, but Foundation's decoder does not.
                if scalar.value < 0x20 {
                    throw SyntaxError(message: "\(Cursor.describe(scalar)) inside a string; write it as an escape "
                                      + "such as `\\t`", position: position)
                }
                let escapePosition = position
                advance()
                guard scalar == "\\" else {
                    text.append(scalar)
                    continue
                }
                guard let escaped = current else { continue }
                advance()
                switch escaped {
                case "b": text.append("\u{08}")
                case "f": text.append("\u{0C}")
                case "n": text.append("\n")
                case "r": text.append("\r")
                case "t": text.append("\t")
                case "'", "\"", "\\", "/": text.append(escaped)
                case "\n":
                    // A line continuation. Foundation keeps the line break in the string, so do the same.
                    text.append(escaped)
                case "\r":
                    text.append(escaped)
                    if current == "\n" {
                        text.append("\n")
                        advance()
                    }
                case "x":
                    guard let value = readHex(digits: 2) else {
                        throw SyntaxError(message: "`\\x` must be followed by two hex digits", position: escapePosition)
                    }
                    text.append(Unicode.Scalar(UInt8(value)))
                case "u":
                    guard var value = readHex(digits: 4) else {
                        throw SyntaxError(message: "`\\u` must be followed by four hex digits",
                                          position: escapePosition)
                    }
                    // A surrogate pair spelled as two escapes makes one scalar.
                    if (0xD800...0xDBFF).contains(value), current == "\\", peek(1) == "u" {
                        let saved = (index, line, lineStart)
                        advance()
                        advance()
                        if let low = readHex(digits: 4), (0xDC00...0xDFFF).contains(low) {
                            value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            (index, line, lineStart) = saved
                        }
                    }
                    text.append(Unicode.Scalar(value) ?? "\u{FFFD}")
                default:
                    // JSON5 would take `\v`, `\0` and any other character as itself, but Foundation's decoder
                    // refuses them, so say so here where the position is known.
                    throw SyntaxError(message: "`\\\(escaped)` is not a supported escape; use `\\b`, `\\f`, `\\n`, "
                                      + "`\\r`, `\\t`, `\\'`, `\\\"`, `\\\\`, `\\/`, `\\xHH` or `\\uHHHH`",
                                      position: escapePosition)
                }
            }
        }

        private mutating func readHex(digits: Int) -> UInt32? {
            var value: UInt32 = 0
            for _ in 0..<digits {
                guard let scalar = current, let digit = Cursor.hexValue(scalar) else { return nil }
                value = value * 16 + digit
                advance()
            }
            return value
        }

        private static func hexValue(_ scalar: Unicode.Scalar) -> UInt32? {
            switch scalar {
            case "0"..."9": scalar.value - 0x30
            case "a"..."f": scalar.value - 0x61 + 10
            case "A"..."F": scalar.value - 0x41 + 10
            default: nil
            }
        }

        /// Reads a name (an unquoted key, or `true`, `null`, `Infinity`…); empty if none starts here.
        ///
        /// A `\uXXXX` escape is kept as written, not decoded: Foundation's decoder keeps it that way in unquoted
        /// keys, and the names must match the decoder's for key order to carry over.
        mutating func readIdentifier() throws(SyntaxError) -> String {
            var text = String.UnicodeScalarView()
            while let scalar = current {
                if scalar == "\\" {
                    let escapePosition = position
                    let start = index
                    advance()
                    guard current == "u" else {
                        throw SyntaxError(message: "only `\\u` escapes are allowed in a name", position: escapePosition)
                    }
                    advance()
                    guard readHex(digits: 4) != nil else {
                        throw SyntaxError(message: "`\\u` must be followed by four hex digits",
                                          position: escapePosition)
                    }
                    text.append(contentsOf: scalars[start..<index])
                } else if Cursor.isNamePart(scalar, first: text.isEmpty) {
                    text.append(scalar)
                    advance()
                } else {
                    break
                }
            }
            return String(text)
        }

        private static func isNamePart(_ scalar: Unicode.Scalar, first: Bool) -> Bool {
            if scalar == "$" || scalar == "_" || scalar.properties.isAlphabetic { return true }
            if first { return false }
            switch scalar.properties.generalCategory {
            case .decimalNumber, .nonspacingMark, .spacingMark, .connectorPunctuation: return true
            default: return scalar == "\u{200C}" || scalar == "\u{200D}"
            }
        }

        /// Reads a number: optional sign, then `Infinity`, `NaN`, hex (`0x1F`) or decimal with optional fraction
        /// and exponent (`1`, `1.5`, `.5`, `1.`, `1e3`).
        mutating func readNumber() throws(SyntaxError) {
            let start = position
            let startIndex = index
            if current == "+" || current == "-" { advance() }
            if let scalar = current, scalar.properties.isAlphabetic {
                let word = try readIdentifier()
                guard word == "Infinity" || word == "NaN" else {
                    throw SyntaxError(message: "`\(word)` is not a number", position: start)
                }
                return
            }
            if current == "0", peek(1) == "x" || peek(1) == "X" {
                advance()
                advance()
                guard readHexDigits() > 0 else {
                    throw SyntaxError(message: "`0x` must be followed by hex digits", position: start)
                }
            } else {
                let leadingZero = current == "0"
                let integerDigits = readDigits()
                if leadingZero, integerDigits > 1 {
                    throw SyntaxError(message: "a number must not start with 0 (write `0x` for hex)", position: start)
                }
                var fractionDigits = 0
                if current == "." {
                    advance()
                    fractionDigits = readDigits()
                }
                guard integerDigits + fractionDigits > 0 else {
                    throw SyntaxError(message: "expected a number, found \(Cursor.describe(current))", position: start)
                }
                let significantDigits = scalars[startIndex..<index].contains { ("1"..."9").contains($0) }
                if current == "e" || current == "E" {
                    advance()
                    if current == "+" || current == "-" { advance() }
                    guard readDigits() > 0 else {
                        throw SyntaxError(message: "the exponent of the number has no digits", position: start)
                    }
                }
                // Foundation's decoder refuses numbers that overflow or underflow a Double; find them here.
                let text = String(String.UnicodeScalarView(scalars[startIndex..<index]))
                if let number = Double(text), number.isInfinite || (number == 0 && significantDigits) {
                    throw SyntaxError(message: "the number \(text) is out of the range of a 64-bit float",
                                      position: start)
                }
            }
            if let next = current, Cursor.isNamePart(next, first: false) {
                throw SyntaxError(message: "unexpected \(Cursor.describe(next)) right after a number",
                                  position: position)
            }
        }

        private mutating func readDigits() -> Int {
            var count = 0
            while let scalar = current, ("0"..."9").contains(scalar) {
                advance()
                count += 1
            }
            return count
        }

        private mutating func readHexDigits() -> Int {
            var count = 0
            while let scalar = current, Cursor.hexValue(scalar) != nil {
                advance()
                count += 1
            }
            return count
        }
    }
}
