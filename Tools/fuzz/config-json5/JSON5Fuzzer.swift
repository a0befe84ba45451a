// libFuzzer entry point for the config parser (JSON5Document, JSON5Parser, JSON5Scanner). Built by
// Tools/fuzz/run-config together with those files, ConfigValue, ConfigPath and RelayProtocol's JSONValue (no module,
// so internal functions are visible). Every broken invariant traps, which libFuzzer reports as a crash with the input.

/// Parses one input (any bytes, read as UTF-8 with invalid sequences replaced, as a config file's text never is) and
/// checks: the same answer twice; an error placed inside the text; and for a document, a position for every value
/// and nothing else, duplicates after their first key, and the same tree again when the tree is written back out
/// as plain JSON and as JSON5 that uses every feature.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigJSON5(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: data == nil ? 0 : size), as: UTF8.self)
    let first = Result { () throws(JSON5Document.SyntaxError) in try JSON5Document(parsing: text) }
    let second = Result { () throws(JSON5Document.SyntaxError) in try JSON5Document(parsing: text) }
    switch (first, second) {
    case (.failure(let error), .failure(let again)):
        precondition(error == again, "a second parse fails differently")
        precondition(!error.message.isEmpty, "an error without a message")
        precondition(contains(text, error.position), "an error at \(error.position), outside the text")
    case (.success(let document), .success(let again)):
        precondition(same(document.value, again.value) && document.positions == again.positions
                     && document.duplicates == again.duplicates, "a second parse differs")
        check(document, text)
    default:
        preconditionFailure("one parse fails, the other does not")
    }
    return 0
}

func check(_ document: JSON5Document, _ text: String) {
    var paths: [String] = []
    collectPaths(document.value, at: "", into: &paths)
    precondition(Set(paths).count == paths.count, "two values share a path")
    precondition(Set(paths) == Set(document.positions.keys), "positions and values name different paths")
    for (path, position) in document.positions {
        precondition(contains(text, position), "\(path) at \(position), outside the text")
    }
    for duplicate in document.duplicates {
        precondition(duplicate.first < duplicate.position, "a duplicate before its first key")
        precondition(document.positions[duplicate.path] == duplicate.first, "a duplicate's first key is not noted")
    }
    for style in [Style.json, .json5] {
        var written = ""
        write(document.value, style, into: &written)
        do {
            let reread = try JSON5Document(parsing: written)
            precondition(same(reread.value, document.value), "written as \(style), the tree reads back differently")
        } catch {
            preconditionFailure("written as \(style), the tree is refused: \(error.message) at \(error.position)")
        }
    }
}

/// Whether `position` names a place in `text`, or just past the end of its line.
func contains(_ text: String, _ position: JSON5Document.Position) -> Bool {
    let scalars = Array(text.unicodeScalars)
    // The length of each line in scalars, its terminator included; CR LF ends one line.
    var lengths = [0]
    for (index, scalar) in scalars.enumerated() {
        lengths[lengths.count - 1] += 1
        switch scalar {
        case "\n", "\u{2028}", "\u{2029}": lengths.append(0)
        case "\r" where index + 1 == scalars.count || scalars[index + 1] != "\n": lengths.append(0)
        default: break
        }
    }
    guard position.line >= 1, position.line <= lengths.count else { return false }
    return position.column >= 1 && position.column <= lengths[position.line - 1] + 1
}

func collectPaths(_ value: ConfigValue, at path: String, into paths: inout [String]) {
    paths.append(path)
    switch value {
    case .object(let members):
        for member in members { collectPaths(member.value, at: ConfigPath.key(member.key, in: path), into: &paths) }
    case .array(let elements):
        for (index, element) in elements.enumerated() {
            collectPaths(element, at: ConfigPath.index(index, in: path), into: &paths)
        }
    default:
        break
    }
}

/// Equality with NaN equal to itself, and -0 apart from 0.
func same(_ lhs: ConfigValue, _ rhs: ConfigValue) -> Bool {
    switch (lhs, rhs) {
    case let (.object(left), .object(right)):
        left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && same($0.value, $1.value) }
    case let (.array(left), .array(right)):
        left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
    case let (.number(left), .number(right)):
        left.bitPattern == right.bitPattern || (left.isNaN && right.isNaN)
    default:
        lhs == rhs
    }
}

enum Style {
    /// Double quotes, `\u` escapes, every key quoted, decimal numbers: JSON, but for `Infinity` and `NaN`.
    case json
    /// Single quotes, unquoted keys where they can be, hex integers, `\x` escapes and surrogate pairs, line
    /// continuations, comments, odd white space and trailing commas.
    case json5
}

func write(_ value: ConfigValue, _ style: Style, into out: inout String) {
    let json5 = style == .json5
    switch value {
    case .null: out += "null"
    case .bool(let flag): out += flag ? "true" : "false"
    case .number(let number): out += written(number, style)
    case .string(let text): writeString(text, style, into: &out)
    case .array(let elements):
        out += "["
        for (index, element) in elements.enumerated() {
            if json5 { out += " /* element */\u{A0}\t" } else if index > 0 { out += "," }
            write(element, style, into: &out)
            if json5 { out += ",\u{2028}" }
        }
        out += "]"
    case .object(let members):
        out += "{"
        for (index, member) in members.enumerated() {
            if json5 { out += "\u{3000}" } else if index > 0 { out += "," }
            if json5, isName(member.key) { out += member.key } else { writeString(member.key, style, into: &out) }
            out += json5 ? ": // comment\r\n" : ":"
            write(member.value, style, into: &out)
            if json5 { out += ",\u{FEFF}" }
        }
        out += "}"
    }
}

func written(_ number: Double, _ style: Style) -> String {
    if number.isNaN { return "NaN" }
    if number.isInfinite { return number < 0 ? "-Infinity" : (style == .json ? "Infinity" : "+Infinity") }
    if style == .json5, number == number.rounded(), abs(number) < 0x1p53, number != 0 {
        return (number < 0 ? "-0x" : "0x") + String(UInt64(abs(number)), radix: 16)
    }
    return "\(number)"
}

func isName(_ key: String) -> Bool {
    guard let first = key.unicodeScalars.first, first == "_" || first == "$" || ("a"..."z").contains(first) else {
        return false
    }
    return key.unicodeScalars.allSatisfy { scalar in
        scalar == "_" || scalar == "$" || ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar)
    }
}

/// Writes `text` quoted. The two styles spell every special character differently — JSON with `\u` escapes only,
/// JSON5 with the short escapes, `\x` and surrogate pairs — so a misread escape shows as a difference.
func writeString(_ text: String, _ style: Style, into out: inout String) {
    let quote: Unicode.Scalar = style == .json ? "\"" : "'"
    out.unicodeScalars.append(quote)
    let scalars = Array(text.unicodeScalars)
    for (offset, scalar) in scalars.enumerated() {
        if style == .json5, offset % 7 == 6 { out += "\\\r\n" }
        let nextIsDigit = offset + 1 < scalars.count && ("0"..."9").contains(scalars[offset + 1])
        switch (style, scalar) {
        case (_, quote), (_, "\\"): out += "\\\(scalar)"
        case (.json, "\u{0}"..."\u{1F}"), (.json, "\u{7F}"..."\u{FFFF}"): out += "\\u" + hex(scalar.value, digits: 4)
        case (.json5, "\u{8}"): out += "\\b"
        case (.json5, "\u{9}"): out += "\\t"
        case (.json5, "\u{A}"): out += "\\n"
        case (.json5, "\u{B}"): out += "\\v"
        case (.json5, "\u{C}"): out += "\\f"
        case (.json5, "\u{D}"): out += "\\r"
        case (.json5, "\u{0}") where !nextIsDigit: out += "\\0"
        case (.json5, "\u{0}"..."\u{1F}"): out += "\\x" + hex(scalar.value, digits: 2)
        case (.json5, "\u{E9}"): out += "\\xe9"
        case (_, "\u{10000}"...):
            let value = scalar.value - 0x10000
            out += "\\u" + hex(0xD800 + (value >> 10), digits: 4) + "\\u" + hex(0xDC00 + (value & 0x3FF), digits: 4)
        default: out.unicodeScalars.append(scalar)
        }
    }
    out.unicodeScalars.append(quote)
}

func hex(_ value: UInt32, digits: Int) -> String {
    let text = String(value, radix: 16)
    return String(repeating: "0", count: max(0, digits - text.count)) + text
}
