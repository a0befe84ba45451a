import Foundation
import Testing
import TestSupport
@testable import RelayCore

/// The value `text` parses to, or nil (with the error recorded) if it does not parse.
private func parsed(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigValue? {
    do {
        return try JSON5Document(parsing: text).value
    } catch {
        Issue.record("\(text.debugDescription) was refused: \(error.message) at \(error.position)",
                     sourceLocation: sourceLocation)
        return nil
    }
}

/// The syntax error for `text`, or nil (with a problem recorded) if it parses.
private func syntaxError(_ text: String, sourceLocation: SourceLocation = #_sourceLocation)
    -> JSON5Document.SyntaxError? {
    do {
        let document = try JSON5Document(parsing: text)
        Issue.record("\(text.debugDescription) parsed as \(document.value)", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

private func position(_ line: Int, _ column: Int) -> JSON5Document.Position {
    JSON5Document.Position(line: line, column: column)
}

/// The JSON5 grammar of https://spec.json5.org, feature by feature, as `JSON5Document` reads it.
@Suite(.computeBound) struct ConfigJSON5Tests {
    @Test(arguments: [
        // Comments and white space (ECMAScript's: including NBSP, BOM, U+2028/9 and every Zs space).
        ("// line\n{ a /* inside */ : /**/ 1 // end\n}", ConfigValue.object([("a", .number(1))])),
        ("/* several\n   lines */ 1 /***/", .number(1)),
        ("1 // no line break at the end", .number(1)),
        ("\u{FEFF}\t\u{0B}\u{0C} \u{A0}\u{2028}\u{2029}\u{3000}\u{1680}\u{2003}\u{202F}\u{205F}\u{FEFF}\r\n1\r",
         .number(1)),
        // Names as keys: ECMAScript 5.1 IdentifierName, reserved words included.
        ("{ $: 1, _: 2, a$_9: 3, true: 4, null: 5, Infinity: 6, if: 7 }",
         .object([("$", .number(1)), ("_", .number(2)), ("a$_9", .number(3)), ("true", .number(4)),
                  ("null", .number(5)), ("Infinity", .number(6)), ("if", .number(7))])),
        ("{ café: 1, Ωmega: 2, 名前: 3, x٣: 4, e\u{301}: 5, 𝒜: 6, ǅ: 7, ʰ: 8, Ⅻ: 9, a‿b: 10, a\u{200C}b: 11 }",
         .object([("café", .number(1)), ("Ωmega", .number(2)), ("名前", .number(3)), ("x٣", .number(4)),
                  ("e\u{301}", .number(5)), ("𝒜", .number(6)), ("ǅ", .number(7)), ("ʰ", .number(8)),
                  ("Ⅻ", .number(9)), ("a‿b", .number(10)), ("a\u{200C}b", .number(11))])),
        (#"{ \u0061b: 1, c\u0064: 2, \u00E9t\u00e9: 3, \u0024: 4, x\u0031: 5 }"#,
         .object([("ab", .number(1)), ("cd", .number(2)), ("été", .number(3)), ("$", .number(4)),
                  ("x1", .number(5))])),
        ("{ 'single': 1, \"double\": 2, '': 3, 'a b.c': 4 }",
         .object([("single", .number(1)), ("double", .number(2)), ("", .number(3)), ("a b.c", .number(4))])),
        // Strings: either quote, every escape, line continuations, raw U+2028/9 and control characters.
        (#"'it\'s "quoted"'"#, .string(#"it's "quoted""#)),
        (#""it's \"quoted\"""#, .string(#"it's "quoted""#)),
        (#"'\b\f\n\r\t\v\0'"#, .string("\u{8}\u{C}\n\r\t\u{B}\0")),
        (#"'\0a \0'"#, .string("\0a \0")),
        (#"'\a\c\ \é\/\\\'\"'"#, .string(#"ac é/\'""#)),
        (#"'\x41\x7e\xe9\xFF\x00'"#, .string("A~éÿ\0")),
        (#"'\u0041\u00E9\u4e2d\uFFFD'"#, .string("Aé中\u{FFFD}")),
        (#"'\uD83D\uDE00 \ud834\udd1e'"#, .string("😀 𝄞")),
        ("'a\\\nb\\\r\nc\\\rd\\\u{2028}e\\\u{2029}f'", .string("abcdef")),
        ("'a\u{2028}b\u{2029}c'", .string("a\u{2028}b\u{2029}c")),
        ("'tab\there\u{01}\u{7F}\u{0}'", .string("tab\there\u{01}\u{7F}\u{0}")),
        ("\"日本語 😀 e\u{301}\"", .string("日本語 😀 e\u{301}")),
        // Numbers: hex, leading and trailing points, an explicit plus, infinities, exponents.
        ("[0x1F, 0X1f, -0x10, +0xA, 0x0, 0xFFFFFFFFFFFFFFFF, 0x1e3]",
         .array([.number(31), .number(31), .number(-16), .number(10), .number(0), .number(18_446_744_073_709_551_616),
                 .number(483)])),
        ("[.5, 5., -.5, +.5e1, 5.e-1, 0.0, -0, 0e0]",
         .array([.number(0.5), .number(5), .number(-0.5), .number(5), .number(0.5), .number(0), .number(0),
                 .number(0)])),
        ("[Infinity, -Infinity, +Infinity, +1, -1]",
         .array([.number(.infinity), .number(-.infinity), .number(.infinity), .number(1), .number(-1)])),
        ("[1e3, 1E+3, 2.5e-3, 1e308, 4.9e-324, 9007199254740993, 123456789012345678901234567890]",
         .array([.number(1000), .number(1000), .number(0.0025), .number(1e308), .number(.leastNonzeroMagnitude),
                 .number(9_007_199_254_740_992), .number(1.2345678901234568e29)])),
        // Trailing commas, empty containers, any value at the top.
        ("[1, 2,]", .array([.number(1), .number(2)])),
        ("{ a: [{},], b: {},}", .object([("a", .array([.object([])])), ("b", .object([]))])),
        ("[[], {}]", .array([.array([]), .object([])])),
        ("null", .null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("'top'", .string("top")),
    ])
    func acceptsJSON5(text: String, expected: ConfigValue) {
        #expect(parsed(text) == expected, "\(text.debugDescription)")
    }

    @Test(arguments: ["NaN", "-NaN", "+NaN", "[NaN]"])
    func acceptsNaN(text: String) {
        var value = parsed(text)
        if case .array(let elements)? = value, elements.count == 1 { value = elements[0] }
        guard case .number(let number)? = value else {
            Issue.record("\(text) parsed as \(String(describing: value))")
            return
        }
        #expect(number.isNaN)
    }

    @Test(arguments: [
        // Values
        ("", "the file has no value; a config with every default is written `{}`", 1, 1),
        (" // only a comment", "the file has no value; a config with every default is written `{}`", 1, 19),
        ("1 2", "unexpected `2` after the end of the top-level value", 1, 3),
        ("{ a: 1 } /", "unexpected `/` after the end of the top-level value", 1, 10),
        ("/* a */ /", "unexpected `/` where a value was expected", 1, 9),
        ("{ a: ", "the file ends where a value was expected", 1, 6),
        ("\u{0}", "unexpected a control character (U+0000) where a value was expected", 1, 1),
        ("1\u{85}", "unexpected U+0085 after the end of the top-level value", 1, 2),
        ("{ a: undefined }", "unexpected word `undefined`; a string value must be quoted", 1, 6),
        ("True", "unexpected word `True`; a string value must be quoted", 1, 1),
        ("nul", "unexpected word `nul`; a string value must be quoted", 1, 1),
        ("truex", "unexpected word `truex`; a string value must be quoted", 1, 1),
        (#"\u0074rue"#, "`true` written with `\\u` escapes is a name, not a value; write it plainly", 1, 1),
        ("/* never closed", "the comment is never closed with `*/`", 1, 1),
        // Objects and arrays
        ("{ a: 1 ", "the file ends inside the object opened at line 1, column 1; a `}` is missing", 1, 8),
        ("[1, 2", "the file ends inside the array opened at line 1, column 1; a `]` is missing", 1, 6),
        ("[1 2]", "expected `,` or `]` after an array element, found `2`", 1, 4),
        ("{ a: 1 b: 2 }", "expected `,` or `}` after the value of `a`, found `b`", 1, 8),
        ("[,]", "unexpected `,` where a value was expected", 1, 2),
        ("[1,,]", "unexpected `,` where a value was expected", 1, 4),
        ("{,}", "expected a key (a name or a quoted string) or `}`, found `,`", 1, 2),
        ("{ a 1 }", "expected `:` after the key `a`, found `1`", 1, 5),
        ("{ a-b: 1 }", "expected `:` after the key `a`, found `-`", 1, 4),
        ("{ 1: 2 }", "expected a key (a name or a quoted string) or `}`, found `1`", 1, 3),
        ("{ ℮: 1 }", "expected a key (a name or a quoted string) or `}`, found U+212E (estimated symbol)", 1, 3),
        // Names
        (#"{ \x61: 1 }"#, "only `\\u` escapes are allowed in a name", 1, 3),
        (#"{ \u006: 1 }"#, "`\\u` must be followed by four hex digits", 1, 3),
        (#"{ a\u0020b: 1 }"#, "`\\u0020` stands for ` `, which cannot be part of a name; quote the key instead", 1, 4),
        (#"{ \u0031a: 1 }"#, "`\\u0031` stands for `1`, which cannot start a name; quote the key instead", 1, 3),
        (#"{ a\uD800: 1 }"#,
         "`\\uD800` stands for half of a surrogate pair, which cannot be part of a name; quote the key instead", 1, 4),
        // Strings
        ("'abc", "the string is never closed with '", 1, 1),
        ("\"abc\\", "the string is never closed with \"", 1, 1),
        ("'a\nb'", "line break inside a string; write `\\n`, or end the line with `\\` to continue the string", 1, 3),
        ("'a\rb'", "line break inside a string; write `\\n`, or end the line with `\\` to continue the string", 1, 3),
        (#"'\1'"#, #"`\1` is not allowed (JSON5 has no octal escapes); write the digit without `\`, "#
            + #"or a character as `\xHH` or `\uHHHH`"#, 1, 2),
        (#"'\01'"#, #"`\0` followed by a digit is not allowed (JSON5 has no octal escapes); write `\x00` for a "#
            + "NUL character", 1, 2),
        (#"'\x4'"#, "`\\x` must be followed by two hex digits", 1, 2),
        (#"'\xg0'"#, "`\\x` must be followed by two hex digits", 1, 2),
        (#"'\u12'"#, "`\\u` must be followed by four hex digits", 1, 2),
        (#"'ab\u12G4'"#, "`\\u` must be followed by four hex digits", 1, 4),
        (#"'\uD800'"#, #"`\uD800` is the first half of a surrogate pair without the second; write the character "#
            + #"itself, or both halves (such as `\uD83D\uDE00`)"#, 1, 2),
        (#"'\uD800\u0041'"#, #"`\uD800` is the first half of a surrogate pair without the second; write the "#
            + #"character itself, or both halves (such as `\uD83D\uDE00`)"#, 1, 2),
        (#"'x\uDE00\uD83D'"#, #"`\uDE00` is the second half of a surrogate pair without the first; write the "#
            + #"character itself, or both halves (such as `\uD83D\uDE00`)"#, 1, 3),
        // Numbers
        ("01", "a number must not start with 0 (write `0x` for hex)", 1, 1),
        ("-00", "a number must not start with 0 (write `0x` for hex)", 1, 1),
        ("0x", "`0x` must be followed by hex digits", 1, 1),
        ("-0xg", "`0x` must be followed by hex digits", 1, 1),
        ("0x1.5", "unexpected `.` after the end of the top-level value", 1, 4),
        ("1e", "the exponent of the number has no digits", 1, 1),
        ("1e+", "the exponent of the number has no digits", 1, 1),
        (".", "expected a number, found the end of the file", 1, 1),
        (".e1", "expected a number, found `e`", 1, 1),
        ("-", "expected a number, found the end of the file", 1, 1),
        ("- 1", "expected a number, found ` `", 1, 1),
        ("--1", "expected a number, found `-`", 1, 1),
        ("1.2.3", "unexpected `.` after the end of the top-level value", 1, 4),
        ("1a", "unexpected `a` right after a number", 1, 2),
        ("10s", "unexpected `s` right after a number", 1, 3),
        ("0x1g", "unexpected `g` right after a number", 1, 4),
        ("1_000", "unexpected `_` right after a number", 1, 2),
        ("0b1", "unexpected `b` right after a number", 1, 2),
        ("1e5x", "unexpected `x` right after a number", 1, 4),
        (#"1\u0061"#, "unexpected `\\` right after a number", 1, 2),
        ("1é", "unexpected `é` right after a number", 1, 2),
        ("-infinity", "`infinity` is not a number", 1, 1),
        ("+Infinityx", "`Infinityx` is not a number", 1, 1),
        ("-null", "`null` is not a number", 1, 1),
        ("1e400", "the number 1e400 is out of the range of a 64-bit float", 1, 1),
        ("-1e400", "the number -1e400 is out of the range of a 64-bit float", 1, 1),
        ("[1e-400]", "the number 1e-400 is out of the range of a 64-bit float", 1, 2),
        ("0x" + String(repeating: "F", count: 300),
         "the number 0xFFFFFFFFFFFFFFFFFF…FFFFFFFFFF is out of the range of a 64-bit float", 1, 1),
        // Nesting
        (String(repeating: "[", count: 129), "values are nested more than 128 levels deep", 1, 129),
    ])
    func rejectsWhatJSON5Rejects(text: String, message: String, line: Int, column: Int) {
        let error = syntaxError(text)
        #expect(error?.message == message, "\(text.debugDescription)")
        #expect(error?.position == position(line, column), "\(text.debugDescription)")
    }

    // Columns count Unicode scalars (a tab or an emoji is one); every line terminator starts a line, CR LF once.
    @Test(arguments: [
        ("{\n\ta: @\n}", 2, 5),
        ("\u{FEFF}{ a: @ }", 1, 6),
        ("{ '日本': @ }", 1, 9),
        ("{ '😀': @ }", 1, 8),
        ("{ 'e\u{301}': @ }", 1, 9),
        ("{\r\na: @ }", 2, 4),
        ("{\ra: @ }", 2, 4),
        ("{\n\r\na: @ }", 3, 4),
        ("{\u{2028}a: @ }", 2, 4),
        ("{ a: 'x\u{2029}y', b: @ }", 2, 8),
        ("{ a: 'x\\\ny', b: @ }", 2, 8),
        ("/*\n\n*/ { a: @ }", 3, 9),
    ])
    func positionsCountLinesAndScalars(text: String, line: Int, column: Int) {
        #expect(syntaxError(text)?.position == position(line, column), "\(text.debugDescription)")
    }

    @Test func positionsNameEveryKeyAndElement() throws {
        let document = try JSON5Document(parsing: "[\n  { a: 1, 'b c': [true, null] },\n  'x',\n]")
        #expect(document.positions == [
            "": position(1, 1),
            "[0]": position(2, 3), "[0].a": position(2, 5), #"[0]["b c"]"#: position(2, 11),
            #"[0]["b c"][0]"#: position(2, 19), #"[0]["b c"][1]"#: position(2, 25),
            "[1]": position(3, 3),
        ])
    }

    @Test func duplicateKeysKeepTheFirstValueAndAreListedOnce() throws {
        let document = try JSON5Document(parsing: "{ a: 1, b: { c: 1, c: 2 }, a: { c: 3, c: 4 } }")
        #expect(document.value == .object([("a", .number(1)), ("b", .object([("c", .number(1))]))]))
        #expect(document.duplicates == [
            JSON5Document.Duplicate(path: "b.c", position: position(1, 20), first: position(1, 14)),
            JSON5Document.Duplicate(path: "a", position: position(1, 28), first: position(1, 3)),
        ])
        #expect(document.positions["a"] == position(1, 3))
        #expect(document.positions["b.c"] == position(1, 14))
    }

    @Test func keysMatchByTheirTextHoweverTheyAreWritten() throws {
        let document = try JSON5Document(parsing: #"{ ab: 1, 'ab': 2, "a\u0062": 3, \u0061b: 4 }"#)
        #expect(document.value == .object([("ab", .number(1))]))
        #expect(document.duplicates.map(\.position.column) == [10, 19, 33])
    }

    @Test func nestingIsAllowedTo128Levels() {
        let deepest = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(parsed(deepest) != nil)
        let objects = String(repeating: "{a:", count: 128) + "1" + String(repeating: "}", count: 128)
        #expect(parsed(objects) != nil)
    }

    @Test(.computeBound, arguments: ["[", "{a:", "{'a':[", "[{\"\":"])
    func nesting200000DeepIsRefusedAtLevel129(opener: String) {
        let text = String(repeating: opener, count: 200_000 / opener.filter { $0 == "[" || $0 == "{" }.count)
        let error = syntaxError(text)
        #expect(error?.message == "values are nested more than 128 levels deep")
        // The 129th opening bracket.
        let openers = text.unicodeScalars.enumerated().filter { $0.element == "[" || $0.element == "{" }
        #expect(error?.position == position(1, openers[128].offset + 1))
        let issues = configIssues(text)
        #expect(issues.map(\.message) == ["invalid JSON5: values are nested more than 128 levels deep"])
    }

    @Test func fileOf50MBIsRefusedBeforeParsing() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("relayd-json5-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.json5").path
        var bytes = Data("{ a: '".utf8)
        bytes.append(Data(repeating: UInt8(ascii: "x"), count: 50_000_000))
        bytes.append(Data("' }".utf8))
        #expect(FileManager.default.createFile(atPath: path, contents: bytes))
        #expect {
            _ = try RelayConfig.load(path: path)
        } throws: { error in
            (error as? ConfigError)?.issues.map(\.message)
                == ["cannot read the config file \"\(path)\": it is larger than 16MiB, too large to be a config"]
        }
    }

    @Test(.computeBound) func largeDocumentsParseInOnePass() throws {
        let elements = (0..<100_000).map { "{ k\($0): [\($0), 'v\($0)'] }" }.joined(separator: ",\n")
        let document = try JSON5Document(parsing: "[\n" + elements + "\n]")
        guard case .array(let values) = document.value else {
            Issue.record("expected an array")
            return
        }
        #expect(values.count == 100_000)
        #expect(values.last == .object([("k99999", .array([.number(99_999), .string("v99999")]))]))
        #expect(document.positions["[99999].k99999[1]"] == position(100_001, 19))
        let keys = (0..<20_000).map { "k\($0): \($0)" }.joined(separator: ", ")
        let object = try JSON5Document(parsing: "{ \(keys), k0: 0 }")
        #expect(object.duplicates.map(\.path) == ["k0"])
    }
}
