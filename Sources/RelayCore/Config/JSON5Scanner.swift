/// Reads the tokens of JSON5 text from its UTF-8 bytes — white space and comments, strings, numbers and names —
/// keeping track of the line and column for messages.
///
/// Works on bytes rather than `Character`s: everything JSON5 gives a meaning to is ASCII except a few kinds of space
/// and line separator and the letters of names, so only those need a scalar decoded. The bytes come from a
/// `String`, so they are always valid UTF-8.
struct JSON5Scanner {
    typealias Position = JSON5Document.Position
    typealias SyntaxError = JSON5Document.SyntaxError

    /// A name (an unquoted key, or a word such as `true`) and whether it was spelled with `\u` escapes.
    struct Name {
        var text: String
        var hasEscapes: Bool
    }

    private let bytes: [UInt8]
    private var index = 0
    private var line = 1
    /// The column of `index`, counted in scalars.
    private var column = 1

    init(_ text: String) {
        bytes = Array(text.utf8)
        // A byte-order mark at the very start takes no column of the first line.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    var position: Position { Position(line: line, column: column) }

    var isAtEnd: Bool { index >= bytes.count }

    /// The byte at the current place, or nil at the end; an ASCII byte is the whole character.
    var byte: UInt8? { index < bytes.count ? bytes[index] : nil }

    /// The current character as a message names it; see `describe`.
    func describeCurrent() -> String {
        JSON5Scanner.describe(index < bytes.count ? scalar(at: index).scalar : nil)
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

    // MARK: Moving

    /// Moves past the current character, whatever its length, counting a line at each line terminator (a CR LF
    /// pair counts once, at the LF).
    mutating func advance() {
        let lead = bytes[index]
        if lead < 0x80 {
            index += 1
            if lead == 0x0A || (lead == 0x0D && byte != 0x0A) {
                newLine()
            } else {
                column += 1
            }
            return
        }
        let separator = isLineOrParagraphSeparator(at: index)
        index += JSON5Scanner.length(lead: lead)
        if separator { newLine() } else { column += 1 }
    }

    /// Moves past `count` ASCII characters that are not line breaks.
    private mutating func skipASCII(_ count: Int) {
        index += count
        column += count
    }

    private mutating func newLine() {
        line += 1
        column = 1
    }

    private func peek(_ offset: Int) -> UInt8? {
        index + offset < bytes.count ? bytes[index + offset] : nil
    }

    /// The number of bytes of the scalar that starts with `lead`.
    private static func length(lead: UInt8) -> Int {
        lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
    }

    /// The scalar that starts at `offset`, and its length in bytes.
    private func scalar(at offset: Int) -> (scalar: Unicode.Scalar, length: Int) {
        let lead = UInt32(bytes[offset])
        let length = JSON5Scanner.length(lead: bytes[offset])
        var value: UInt32
        switch length {
        case 1: return (Unicode.Scalar(UInt8(lead)), 1)
        case 2: value = lead & 0x1F
        case 3: value = lead & 0x0F
        default: value = lead & 0x07
        }
        for next in 1..<length {
            value = value << 6 | UInt32(bytes[offset + next] & 0x3F)
        }
        return (Unicode.Scalar(value) ?? "\u{FFFD}", length)
    }

    /// Whether U+2028 or U+2029 (E2 80 A8 or A9) starts at `offset`.
    private func isLineOrParagraphSeparator(at offset: Int) -> Bool {
        bytes[offset] == 0xE2 && offset + 2 < bytes.count && bytes[offset + 1] == 0x80
            && (bytes[offset + 2] == 0xA8 || bytes[offset + 2] == 0xA9)
    }

    /// Whether a line terminator (LF, CR, U+2028, U+2029) starts at `offset`.
    private func isLineTerminator(at offset: Int) -> Bool {
        bytes[offset] == 0x0A || bytes[offset] == 0x0D || isLineOrParagraphSeparator(at: offset)
    }

    // MARK: White space and comments

    /// Skips white space and comments. White space is what JSON5 takes from ECMAScript: tab, vertical tab, form
    /// feed, space, no-break space, the byte-order mark, every other space separator (Unicode category Zs) and the
    /// line terminators.
    mutating func skipTrivia() throws(SyntaxError) {
        while index < bytes.count {
            switch bytes[index] {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20:
                advance()
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "/"):
                while index < bytes.count, !isLineTerminator(at: index) { advance() }
            case UInt8(ascii: "/") where peek(1) == UInt8(ascii: "*"):
                let start = position
                skipASCII(2)
                while index < bytes.count, !(bytes[index] == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/")) {
                    advance()
                }
                guard index < bytes.count else {
                    throw SyntaxError(message: "the comment is never closed with `*/`", position: start)
                }
                skipASCII(2)
            case 0x80...:
                guard JSON5Scanner.isSpace(scalar(at: index).scalar) else { return }
                advance()
            default:
                return
            }
        }
    }

    /// Non-ASCII white space.
    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "\u{A0}", "\u{FEFF}", "\u{2028}", "\u{2029}": true
        default: scalar.properties.generalCategory == .spaceSeparator
        }
    }

    // MARK: Strings

    /// Reads a string in either quote and returns its text.
    ///
    /// Any character but the quote, `\` and a line break stands for itself (U+2028 and U+2029 included, as JSON5
    /// allows). Escapes are ECMAScript's: `\b \f \n \r \t \v`, `\0` (not before a digit), `\xHH`, `\uHHHH` (two of
    /// them for a character outside the BMP), `\` before a line break continues the string on the next line and
    /// adds nothing to it, and `\` before any other character but a digit is that character.
    mutating func readString() throws(SyntaxError) -> String {
        let start = position
        let quote = bytes[index]
        skipASCII(1)
        var segmentStart = index
        // The text up to `segmentStart`, once an escape has made it differ from the bytes between the quotes.
        var unescaped: [UInt8] = []
        var hasEscapes = false
        while true {
            guard index < bytes.count else {
                throw SyntaxError(message: "the string is never closed with \(Unicode.Scalar(quote))",
                                  position: start)
            }
            let byte = bytes[index]
            if byte == quote {
                let text: String
                if hasEscapes {
                    unescaped.append(contentsOf: bytes[segmentStart..<index])
                    text = String(decoding: unescaped, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[segmentStart..<index], as: UTF8.self)
                }
                skipASCII(1)
                return text
            }
            if byte == 0x0A || byte == 0x0D {
                throw SyntaxError(message: "line break inside a string; write `\\n`, or end the line with `\\` "
                                  + "to continue the string", position: position)
            }
            guard byte == UInt8(ascii: "\\") else {
                advance()
                continue
            }
            unescaped.append(contentsOf: bytes[segmentStart..<index])
            try readEscape(into: &unescaped)
            hasEscapes = true
            segmentStart = index
        }
    }

    /// Reads the escape at `\` and appends what it stands for.
    private mutating func readEscape(into text: inout [UInt8]) throws(SyntaxError) {
        let escapePosition = position
        skipASCII(1)
        // At the end of the file the string's own check reports it unclosed.
        guard index < bytes.count else { return }
        let escaped = bytes[index]
        switch escaped {
        case UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"),
             UInt8(ascii: "v"):
            text.append(JSON5Scanner.controlCharacter(escaped))
            skipASCII(1)
        case UInt8(ascii: "0"):
            if let next = peek(1), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(next) {
                throw SyntaxError(message: "`\\0` followed by a digit is not allowed (JSON5 has no octal escapes); "
                                  + "write `\\x00` for a NUL character", position: escapePosition)
            }
            text.append(0x00)
            skipASCII(1)
        case UInt8(ascii: "1")...UInt8(ascii: "9"):
            throw SyntaxError(message: "`\\\(Unicode.Scalar(escaped))` is not allowed (JSON5 has no octal "
                              + "escapes); write the digit without `\\`, or a character as `\\xHH` or `\\uHHHH`",
                              position: escapePosition)
        case UInt8(ascii: "x"):
            guard let value = hexValue(at: index + 1, digits: 2) else {
                throw SyntaxError(message: "`\\x` must be followed by two hex digits", position: escapePosition)
            }
            skipASCII(3)
            append(Unicode.Scalar(UInt8(value)), to: &text)
        case UInt8(ascii: "u"):
            guard let value = hexValue(at: index + 1, digits: 4) else {
                throw SyntaxError(message: "`\\u` must be followed by four hex digits", position: escapePosition)
            }
            skipASCII(5)
            let scalar = try surrogatePair(startingWith: value, at: escapePosition)
            append(scalar, to: &text)
        default:
            if isLineTerminator(at: index) {
                // A line continuation: the escaped line break is left out of the string.
                advance()
                if escaped == 0x0D, byte == 0x0A { advance() }
                return
            }
            // Any other character stands for itself: `\'`, `\"`, `\\`, `\/`, but also `\a` or `\é`.
            let length = JSON5Scanner.length(lead: escaped)
            text.append(contentsOf: bytes[index..<(index + length)])
            advance()
        }
    }

    /// The control character that `\b`, `\f`, `\n`, `\r`, `\t` or `\v` stands for.
    private static func controlCharacter(_ letter: UInt8) -> UInt8 {
        switch letter {
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: 0x0B
        }
    }

    /// The scalar of a `\uHHHH` escape whose value is `value`, reading the second half of a surrogate pair when
    /// `value` is the first. Swift text cannot hold half a pair, so a lone half is refused.
    private mutating func surrogatePair(startingWith value: UInt32, at escapePosition: Position)
        throws(SyntaxError) -> Unicode.Scalar {
        if let scalar = Unicode.Scalar(value) { return scalar }
        let written = "\\u" + JSON5Scanner.hex(value)
        if value < 0xDC00, peek(0) == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u"),
           let low = hexValue(at: index + 2, digits: 4), (0xDC00...0xDFFF).contains(low),
           let scalar = Unicode.Scalar(0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)) {
            skipASCII(6)
            return scalar
        }
        let half = value < 0xDC00 ? "the first half of a surrogate pair without the second"
            : "the second half of a surrogate pair without the first"
        throw SyntaxError(message: "`\(written)` is \(half); write the character itself, or both halves "
                          + "(such as `\\uD83D\\uDE00`)", position: escapePosition)
    }

    private func append(_ scalar: Unicode.Scalar, to text: inout [UInt8]) {
        UTF8.encode(scalar) { text.append($0) }
    }

    /// The value of `digits` hex digits at `offset`, or nil if there are fewer.
    private func hexValue(at offset: Int, digits: Int) -> UInt32? {
        guard offset + digits <= bytes.count else { return nil }
        var value: UInt32 = 0
        for byte in bytes[offset..<(offset + digits)] {
            guard let digit = JSON5Scanner.hexDigit(byte) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// `value` as four or more uppercase hex digits.
    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    // MARK: Names

    /// Reads a name: an unquoted key, or a word such as `true` or `Infinity`; an empty name, without moving, if
    /// none starts here.
    ///
    /// Names are ECMAScript 5.1 IdentifierNames: a letter (categories Lu, Ll, Lt, Lm, Lo, Nl), `$` or `_`, then
    /// those, digits (Nd), combining marks (Mn, Mc), connector punctuation (Pc), ZWNJ and ZWJ. Any of them may be
    /// written as a `\uHHHH` escape, which stands for the character itself.
    mutating func readName() throws(SyntaxError) -> Name {
        let start = index
        var text: [UInt8] = []
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            let first = index == start
            if byte < 0x80 {
                if JSON5Scanner.isNameByte(byte, first: first) {
                    text.append(byte)
                    skipASCII(1)
                    continue
                }
                guard byte == UInt8(ascii: "\\") else { break }
                let escapePosition = position
                guard peek(1) == UInt8(ascii: "u") else {
                    throw SyntaxError(message: "only `\\u` escapes are allowed in a name", position: escapePosition)
                }
                guard let value = hexValue(at: index + 2, digits: 4) else {
                    throw SyntaxError(message: "`\\u` must be followed by four hex digits", position: escapePosition)
                }
                guard let scalar = Unicode.Scalar(value), JSON5Scanner.isNameScalar(scalar, first: first) else {
                    let character = Unicode.Scalar(value).map { JSON5Scanner.describe($0) }
                        ?? "half of a surrogate pair"
                    throw SyntaxError(message: "`\\u\(JSON5Scanner.hex(value))` stands for \(character), which "
                                      + "cannot \(first ? "start" : "be part of") a name; quote the key instead",
                                      position: escapePosition)
                }
                append(scalar, to: &text)
                hasEscapes = true
                skipASCII(6)
            } else {
                let decoded = scalar(at: index)
                guard JSON5Scanner.isNameScalar(decoded.scalar, first: first) else { break }
                text.append(contentsOf: bytes[index..<(index + decoded.length)])
                index += decoded.length
                column += 1
            }
        }
        return Name(text: String(decoding: text, as: UTF8.self), hasEscapes: hasEscapes)
    }

    private static func isNameByte(_ byte: UInt8, first: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "$"),
             UInt8(ascii: "_"):
            true
        case UInt8(ascii: "0")...UInt8(ascii: "9"):
            !first
        default:
            false
        }
    }

    private static func isNameScalar(_ scalar: Unicode.Scalar, first: Bool) -> Bool {
        if scalar.isASCII { return isNameByte(UInt8(scalar.value), first: first) }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter, .letterNumber:
            return true
        case .nonspacingMark, .spacingMark, .decimalNumber, .connectorPunctuation:
            return !first
        default:
            return !first && (scalar == "\u{200C}" || scalar == "\u{200D}")
        }
    }

    /// Whether what starts at the current place would continue a name (or a number, for a digit), which must not
    /// follow a number directly.
    private var continuesName: Bool {
        guard index < bytes.count else { return false }
        let byte = bytes[index]
        if byte < 0x80 { return byte == UInt8(ascii: "\\") || JSON5Scanner.isNameByte(byte, first: false) }
        return JSON5Scanner.isNameScalar(scalar(at: index).scalar, first: false)
    }

    // MARK: Numbers

    /// Reads a number: an optional sign, then `Infinity`, `NaN`, hex (`0x1F`) or decimal with an optional fraction
    /// and exponent (`1`, `1.5`, `.5`, `1.`, `1e3`). A number too large for a Double, or too small to be anything
    /// but zero, is refused rather than read as infinity or zero.
    mutating func readNumber() throws(SyntaxError) -> Double {
        let start = position
        let startIndex = index
        var negative = false
        if let sign = byte, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            skipASCII(1)
        }
        let value: Double
        if let letter = byte, JSON5Scanner.isNameByte(letter, first: true) || letter >= 0x80 {
            let word = try readName()
            switch (word.text, word.hasEscapes) {
            case ("Infinity", false): value = .infinity
            case ("NaN", false): value = .nan
            default:
                if word.text.isEmpty {
                    throw SyntaxError(message: "expected a number, found \(describeCurrent())", position: start)
                }
                throw SyntaxError(message: "`\(word.text)` is not a number", position: start)
            }
        } else if byte == UInt8(ascii: "0"), peek(1) == UInt8(ascii: "x") || peek(1) == UInt8(ascii: "X") {
            skipASCII(2)
            let digitsStart = index
            while let digit = byte, JSON5Scanner.hexDigit(digit) != nil { skipASCII(1) }
            guard index > digitsStart else {
                throw SyntaxError(message: "`0x` must be followed by hex digits", position: start)
            }
            // Double's own parser reads C's hex notation, correctly rounded past 2^53.
            value = try checked(Double(String(decoding: bytes[(digitsStart - 2)..<index], as: UTF8.self)),
                                text: startIndex, start: start)
        } else {
            let leadingZero = byte == UInt8(ascii: "0")
            let integerDigits = skipDigits()
            if leadingZero, integerDigits > 1 {
                throw SyntaxError(message: "a number must not start with 0 (write `0x` for hex)", position: start)
            }
            var fractionDigits = 0
            if byte == UInt8(ascii: ".") {
                skipASCII(1)
                fractionDigits = skipDigits()
            }
            guard integerDigits + fractionDigits > 0 else {
                throw SyntaxError(message: "expected a number, found \(describeCurrent())", position: start)
            }
            let mantissa = bytes[startIndex..<index]
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                skipASCII(1)
                if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { skipASCII(1) }
                guard skipDigits() > 0 else {
                    throw SyntaxError(message: "the exponent of the number has no digits", position: start)
                }
            }
            let parsed = Double(String(decoding: bytes[startIndex..<index], as: UTF8.self))
            // Zero is only out of range when the digits were not all zeros.
            if parsed == 0, mantissa.contains(where: { (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) {
                throw outOfRange(text: startIndex, start: start)
            }
            return try finish(checked(parsed, text: startIndex, start: start))
        }
        return try finish(negative ? -value : value)
    }

    /// `value` once the character after the number is checked: a letter or digit there is a mistake such as
    /// `10s` or `1_000`.
    private func finish(_ value: Double) throws(SyntaxError) -> Double {
        if continuesName {
            throw SyntaxError(message: "unexpected \(describeCurrent()) right after a number", position: position)
        }
        return value
    }

    /// The parsed value of the number written from `text` to here, refused if it overflowed.
    private func checked(_ value: Double?, text: Int, start: Position) throws(SyntaxError) -> Double {
        guard let value, value.isFinite else { throw outOfRange(text: text, start: start) }
        return value
    }

    private func outOfRange(text: Int, start: Position) -> SyntaxError {
        var written = String(decoding: bytes[text..<index], as: UTF8.self)
        if written.count > 40 { written = "\(written.prefix(20))…\(written.suffix(10))" }
        return SyntaxError(message: "the number \(written) is out of the range of a 64-bit float", position: start)
    }

    private mutating func skipDigits() -> Int {
        let digitsStart = index
        while let digit = byte, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) { skipASCII(1) }
        return index - digitsStart
    }
}
