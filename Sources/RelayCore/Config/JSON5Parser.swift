/// The JSON5 grammar of values, objects and arrays, building the `ConfigValue` tree as it goes and noting where each
/// path starts; `JSON5Scanner` reads the tokens in between.
///
/// Recursive descent, one call per level of nesting, which is why the depth is capped
/// (`JSON5Document.maximumDepth`): a file of 200,000 `[` gets a message, not a stack overflow.
struct JSON5Parser {
    typealias Position = JSON5Document.Position
    typealias SyntaxError = JSON5Document.SyntaxError

    private var scanner: JSON5Scanner
    private var positions: [String: Position] = [:]
    private var duplicates: [JSON5Document.Duplicate] = []

    private init(_ text: String) {
        scanner = JSON5Scanner(text)
    }

    static func parse(_ text: String) throws(SyntaxError) -> JSON5Document {
        var parser = JSON5Parser(text)
        try parser.scanner.skipTrivia()
        guard !parser.scanner.isAtEnd else {
            throw SyntaxError(message: "the file has no value; a config with every default is written `{}`",
                              position: parser.scanner.position)
        }
        parser.positions[""] = parser.scanner.position
        let value = try parser.parseValue(path: "", depth: 0)
        try parser.scanner.skipTrivia()
        if !parser.scanner.isAtEnd {
            throw SyntaxError(message: "unexpected \(parser.scanner.describeCurrent()) after the end of the top-level "
                              + "value", position: parser.scanner.position)
        }
        return JSON5Document(value: value, positions: parser.positions, duplicates: parser.duplicates)
    }

    /// Parses the value that starts here. `path` is nil inside a duplicate key's value, whose places are not noted.
    private mutating func parseValue(path: String?, depth: Int) throws(SyntaxError) -> ConfigValue {
        guard let byte = scanner.byte else {
            throw SyntaxError(message: "the file ends where a value was expected", position: scanner.position)
        }
        switch byte {
        case UInt8(ascii: "{"):
            return try parseObject(path: path, depth: depth + 1)
        case UInt8(ascii: "["):
            return try parseArray(path: path, depth: depth + 1)
        case UInt8(ascii: "\""), UInt8(ascii: "'"):
            return .string(try scanner.readString())
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
            return .number(try scanner.readNumber())
        default:
            let start = scanner.position
            let name = try scanner.readName()
            let literal: ConfigValue? = switch name.text {
            case "true": .bool(true)
            case "false": .bool(false)
            case "null": .null
            case "Infinity": .number(.infinity)
            case "NaN": .number(.nan)
            default: nil
            }
            if let literal {
                // Literals are spelled out; `\u0074rue` is a name, as in ECMAScript.
                guard name.hasEscapes else { return literal }
                throw SyntaxError(message: "`\(name.text)` written with `\\u` escapes is a name, not a value; "
                                  + "write it plainly", position: start)
            }
            // An empty name leaves the scanner where it was, at the character that starts no value.
            if name.text.isEmpty {
                throw SyntaxError(message: "unexpected \(scanner.describeCurrent()) where a value was expected",
                                  position: start)
            }
            throw SyntaxError(message: "unexpected word `\(name.text)`; a string value must be quoted",
                              position: start)
        }
    }

    private mutating func parseObject(path: String?, depth: Int) throws(SyntaxError) -> ConfigValue {
        let open = scanner.position
        guard depth <= JSON5Document.maximumDepth else { throw nestedTooDeeply(at: open) }
        scanner.advance()
        var members: [(key: String, value: ConfigValue)] = []
        // Where each key was first written, to report a second one.
        var seen: [String: Position] = [:]
        while true {
            try scanner.skipTrivia()
            guard let byte = scanner.byte else { throw endsInside("object", opened: open, closer: "}") }
            if byte == UInt8(ascii: "}") {
                scanner.advance()
                return .object(members)
            }
            let keyPosition = scanner.position
            let key: String
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                key = try scanner.readString()
            } else {
                key = try scanner.readName().text
                if key.isEmpty {
                    throw SyntaxError(message: "expected a key (a name or a quoted string) or `}`, found "
                                      + scanner.describeCurrent(), position: keyPosition)
                }
            }
            var memberPath = path.map { ConfigPath.key(key, in: $0) }
            let first = seen[key]
            if let first {
                if let memberPath {
                    duplicates.append(JSON5Document.Duplicate(path: memberPath, position: keyPosition, first: first))
                }
                memberPath = nil
            } else {
                seen[key] = keyPosition
                if let memberPath { positions[memberPath] = keyPosition }
            }
            try scanner.skipTrivia()
            guard scanner.byte == UInt8(ascii: ":") else {
                throw SyntaxError(message: "expected `:` after the key `\(key)`, found \(scanner.describeCurrent())",
                                  position: scanner.position)
            }
            scanner.advance()
            try scanner.skipTrivia()
            let value = try parseValue(path: memberPath, depth: depth)
            if first == nil { members.append((key, value)) }
            try scanner.skipTrivia()
            switch scanner.byte {
            case UInt8(ascii: ","):
                scanner.advance()
            case UInt8(ascii: "}"):
                scanner.advance()
                return .object(members)
            case nil:
                throw endsInside("object", opened: open, closer: "}")
            default:
                throw SyntaxError(message: "expected `,` or `}` after the value of `\(key)`, found "
                                  + scanner.describeCurrent(), position: scanner.position)
            }
        }
    }

    private mutating func parseArray(path: String?, depth: Int) throws(SyntaxError) -> ConfigValue {
        let open = scanner.position
        guard depth <= JSON5Document.maximumDepth else { throw nestedTooDeeply(at: open) }
        scanner.advance()
        var elements: [ConfigValue] = []
        while true {
            try scanner.skipTrivia()
            guard let byte = scanner.byte else { throw endsInside("array", opened: open, closer: "]") }
            if byte == UInt8(ascii: "]") {
                scanner.advance()
                return .array(elements)
            }
            let elementPath = path.map { ConfigPath.index(elements.count, in: $0) }
            if let elementPath, positions[elementPath] == nil { positions[elementPath] = scanner.position }
            elements.append(try parseValue(path: elementPath, depth: depth))
            try scanner.skipTrivia()
            switch scanner.byte {
            case UInt8(ascii: ","):
                scanner.advance()
            case UInt8(ascii: "]"):
                scanner.advance()
                return .array(elements)
            case nil:
                throw endsInside("array", opened: open, closer: "]")
            default:
                throw SyntaxError(message: "expected `,` or `]` after an array element, found "
                                  + scanner.describeCurrent(), position: scanner.position)
            }
        }
    }

    private func nestedTooDeeply(at position: Position) -> SyntaxError {
        SyntaxError(message: "values are nested more than \(JSON5Document.maximumDepth) levels deep",
                    position: position)
    }

    private func endsInside(_ kind: String, opened open: Position, closer: String) -> SyntaxError {
        SyntaxError(message: "the file ends inside the \(kind) opened at line \(open.line), column \(open.column); "
                    + "a `\(closer)` is missing", position: scanner.position)
    }
}
