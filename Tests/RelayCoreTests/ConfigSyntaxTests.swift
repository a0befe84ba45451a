import Testing
import TestSupport
@testable import RelayCore

@Suite struct ConfigSyntaxTests {
    @Test(arguments: [
        ("{\n  a: 1,\n  b: @\n}", "unexpected `@` where a value was expected", 3, 6),
        ("{\n  listeners: [1, 2\n  drain_timeout: '1s'\n}",
         "expected `,` or `]` after an array element, found `d`", 3, 3),
        ("{\n  io: { loops: 1 \n  splice: true }\n}",
         "expected `,` or `}` after the value of `loops`, found `s`", 3, 3),
        ("{\n  log: {\n    level: 'info'\n",
         "the file ends inside the object opened at line 2, column 8; a `}` is missing", 4, 1),
        ("{ drain_timeout: '30s }", "the string is never closed with '", 1, 18),
        ("{ drain_timeout: \"30s\n\" }",
         "line break inside a string; write `\\n`, or end the line with `\\` to continue the string", 1, 22),
        ("{ level info }", "expected `:` after the key `level`, found `i`", 1, 9),
        ("{ log: { level: info } }", "unexpected word `info`; a string value must be quoted", 1, 17),
        ("{ a: 1 } }", "unexpected `}` after the end of the top-level value", 1, 10),
        ("{ a: 1, /* never closed }", "the comment is never closed with `*/`", 1, 9),
        ("{ a: 012 }", "a number must not start with 0 (write `0x` for hex)", 1, 6),
        ("{ a: \"\\u{41}\" }", "`\\u` must be followed by four hex digits", 1, 7),
        ("{ a: \"\\1\" }",
         "`\\1` is not allowed (JSON5 has no octal escapes); "
            + #"write the digit without `\`, or a character as `\xHH` or `\uHHHH`"#,
         1, 7),
        ("{ a: \u{01} }", "unexpected a control character (U+0001) where a value was expected", 1, 6),
        ("{ a: 1e400 }", "the number 1e400 is out of the range of a 64-bit float", 1, 6),
        ("{ a: [1, -1e-400] }", "the number -1e-400 is out of the range of a 64-bit float", 1, 10),
        ("{ a: 1 }\u{200B}", "unexpected U+200B (zero width space) after the end of the top-level value", 1, 9),
        ("{ a: 1,, }", "expected a key (a name or a quoted string) or `}`, found `,`", 1, 8),
        ("  // only a comment\n", "the file has no value; a config with every default is written `{}`", 2, 1),
        ("", "the file has no value; a config with every default is written `{}`", 1, 1),
    ])
    func syntaxErrorIsLocatedByLineAndColumn(text: String, message: String, line: Int, column: Int) {
        let issues = configIssues(text)
        #expect(issues == [ConfigIssue(path: "", message: "invalid JSON5: \(message)", line: line, column: column)])
    }

    @Test(.computeBound) func deepNestingIsRefusedWithoutCrashing() {
        let text = "{ a: " + String(repeating: "[", count: 100_000) + " }"
        let issues = configIssues(text)
        #expect(issues.count == 1)
        #expect(issues.first?.message.hasPrefix("invalid JSON5") == true)
    }

    @Test func crlfLineEndingsCountAsOneLine() {
        let issues = configIssues("{\r\n  a: 1,\r\n  b: @\r\n}")
        #expect(issues.first?.line == 3)
        #expect(issues.first?.column == 6)
    }

    @Test func documentHoldsEveryJSON5FeatureInFileOrderWithPositions() throws {
        let text = """
            \u{FEFF}{
              $key_1: 'single \\' quote',
              "quoted key": "line \\
            continued",
              hex: 0x1F, half: .5, trailing: 1., exp: -1e3, big: +Infinity, nan: NaN,
              nested: { list: [ [], {}, [ null, true, false, ], ], },
              esc\\u0061ped: "\\x41\\u00e9\\uD83D\\uDE00",
            }
            """
        let document = try JSON5Document(parsing: text)
        guard case .object(let members) = document.value else {
            Issue.record("expected an object")
            return
        }
        #expect(members.map(\.key) == ["$key_1", "quoted key", "hex", "half", "trailing", "exp", "big", "nan",
                                        "nested", "escaped"])
        #expect(members[0].value == .string("single ' quote"))
        #expect(members[1].value == .string("line continued"))
        #expect(members[2...6].map(\.value) == [.number(31), .number(0.5), .number(1), .number(-1000),
                                               .number(.infinity)])
        #expect(members[8].value == .object([("list", .array([.array([]), .object([]),
                                                              .array([.null, .bool(true), .bool(false)])]))]))
        #expect(members[9].value == .string("A\u{e9}\u{1F600}"))
        #expect(document.positions[""] == JSON5Document.Position(line: 1, column: 1))
        #expect(document.positions["$key_1"] == nil)
        #expect(document.positions["[\"$key_1\"]"] == JSON5Document.Position(line: 2, column: 3))
        #expect(document.positions["nested.list[2][1]"] == JSON5Document.Position(line: 6, column: 37))
        #expect(document.positions["escaped"] == JSON5Document.Position(line: 7, column: 3))
        #expect(document.duplicates.isEmpty)
    }
}
