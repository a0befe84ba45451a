/// One value of the config tree together with its path, with conversions to the types settings use.
///
/// Every conversion either returns the value or records a problem naming the path, what was found and what was
/// expected, and returns nil; readers keep going after a nil so that all problems are found in one pass.
struct ConfigReader {
    /// The value being read.
    let value: ConfigValue
    /// Where it is, such as `listeners[0].backlog`; empty for the top level.
    let path: String
    /// Where problems go.
    let log: ConfigIssueLog

    /// Records `message` as a problem with this value.
    func report(_ message: String) {
        log.add(message, at: path)
    }

    /// Records `message` as a problem with this value. Returns nil so callers can write `return reject(...)`.
    func reject<T>(_ message: String) -> T? {
        report(message)
        return nil
    }

    /// Records "expected …, found …" for this value, with an optional hint after it.
    func expected<T>(_ what: String, hint: String? = nil) -> T? {
        reject("expected \(what), found \(value.summary)" + (hint.map { "; \($0)" } ?? ""))
    }

    func bool() -> Bool? {
        guard case .bool(let flag) = value else {
            if case .string(let text) = value, text == "true" || text == "false" {
                return expected("`true` or `false`", hint: "write it without quotes")
            }
            return expected("`true` or `false`")
        }
        return flag
    }

    /// A whole number within `range` (`Int.max` as the upper bound means "no upper limit").
    func integer(in range: ClosedRange<Int>) -> Int? {
        let wanted = range.upperBound == Int.max
            ? "an integer of at least \(range.lowerBound)"
            : "an integer from \(range.lowerBound) to \(range.upperBound)"
        guard case .number(let number) = value else {
            if case .string(let text) = value, Int(text) != nil {
                return expected(wanted, hint: "write the number without quotes")
            }
            return expected(wanted)
        }
        guard let integer = Int(exactly: number), range.contains(integer) else { return expected(wanted) }
        return integer
    }

    /// A finite number of at least `minimum` (more than `minimum` when `exclusive` is set) and at most `maximum`
    /// when one is given; fractions are allowed.
    func number(atLeast minimum: Double, exclusive: Bool = false, atMost maximum: Double? = nil) -> Double? {
        let bound = ConfigValue.render(minimum)
        let lower = exclusive ? "greater than \(bound)" : "of at least \(bound)"
        let wanted = "a number \(lower)" + (maximum.map { " and at most \(ConfigValue.render($0))" } ?? "")
        guard case .number(let number) = value else {
            if case .string(let text) = value, Double(text) != nil {
                return expected(wanted, hint: "write the number without quotes")
            }
            return expected(wanted)
        }
        let aboveMinimum = exclusive ? number > minimum : number >= minimum
        guard number.isFinite, aboveMinimum, number <= maximum ?? .infinity else { return expected(wanted) }
        return number
    }

    /// A name for a listener or a backend group: letters, digits, `_`, `.` and `-`, so it can appear in logs
    /// and paths without quoting.
    func name() -> String? {
        let wanted = "a name made of letters, digits, `_`, `.` and `-`"
        guard case .string(let text) = value else { return expected(wanted) }
        let valid = !text.isEmpty && text.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", ".", "-": true
            default: false
            }
        }
        return valid ? text : expected(wanted)
    }

    /// One of `names`, turned into a value by `make`; a near miss gets a "did you mean".
    func choice<T>(among names: [String], _ make: (String) -> T?) -> T? {
        let list = names.map { "`\($0)`" }
        let wanted = list.count == 1 ? list[0] : "one of " + list.joined(separator: ", ")
        guard case .string(let text) = value, let result = make(text) else {
            var hint: String?
            if case .string(let text) = value, let near = Spelling.suggestion(for: text, among: names) {
                hint = "did you mean `\(near)`?"
            }
            return expected(wanted, hint: hint)
        }
        return result
    }

    /// A case of a string-backed enum, by its raw value.
    func choice<T: CaseIterable & RawRepresentable>(_ type: T.Type) -> T? where T.RawValue == String {
        choice(among: T.allCases.map(\.rawValue), T.init(rawValue:))
    }

    /// A duration written with a unit (`250ms`, `15s`, `1m30s`); zero is accepted only when `allowZero` is set.
    func duration(allowZero: Bool) -> Duration? {
        let wanted = "a duration with a unit, such as \"250ms\", \"15s\" or \"1m30s\""
        switch value {
        case .number(let number):
            // Zero needs no unit: `idle_timeout: 0` reads as "off" wherever zero is allowed.
            if allowZero, number == 0 { return .zero }
            return expected(wanted, hint: "write a unit, e.g. \"\(ConfigValue.render(number))s\"")
        case .string(let text):
            if let duration = DurationParser.parse(text) {
                if !allowZero, duration == .zero { return expected("a duration greater than zero") }
                return duration
            }
            if text.hasPrefix("-") { return expected("a duration of zero or more", hint: "it cannot be negative") }
            if Double(text) != nil { return expected(wanted, hint: "write a unit, e.g. \"\(text)s\"") }
            return expected(wanted, hint: "the units are h, m, s, ms, us and ns")
        default:
            return expected(wanted)
        }
    }

    /// A size in bytes within `range`: a plain integer or a string with a unit (`64KiB`, `1MiB`).
    func byteSize(in range: ClosedRange<Int>) -> Int? {
        let wanted = "a size from \(ByteSize.format(range.lowerBound)) to \(ByteSize.format(range.upperBound)) "
            + "(\(range.lowerBound) to \(range.upperBound) bytes), such as \(ByteSize.format(range.lowerBound * 4)) "
            + "or \(range.lowerBound * 4)"
        let bytes: Int?
        switch value {
        case .number(let number):
            bytes = Int(exactly: number)
        case .string(let text):
            bytes = ByteSize.parse(text)
            if bytes == nil {
                let hint = Int(text) != nil
                    ? "write a unit (\"\(text)B\") or the number without quotes"
                    : "the units are B, KiB, MiB and GiB"
                return expected(wanted, hint: hint)
            }
        default:
            bytes = nil
        }
        guard let bytes, range.contains(bytes) else { return expected(wanted) }
        return bytes
    }

    /// An `ip:port` or `[ipv6]:port` address.
    func endpoint() -> Endpoint? {
        let wanted = "host:port such as \"127.0.0.1:8080\" or \"[::1]:8080\""
        guard case .string(let text) = value else { return expected(wanted) }
        do {
            return try Endpoint(parsing: text)
        } catch {
            return expected(wanted, hint: error.message)
        }
    }

    /// The elements of an array, each with its own path.
    func elements() -> [ConfigReader]? {
        guard case .array(let values) = value else { return expected("an array") }
        return values.enumerated().map { index, element in
            ConfigReader(value: element, path: ConfigPath.index(index, in: path), log: log)
        }
    }

    /// The members of an object used as a map from names the author chooses (such as the groups in `backends`),
    /// in file order. There are no unknown keys in a map.
    func members() -> [(key: String, value: ConfigReader)]? {
        guard case .object(let members) = value else { return expected("an object") }
        return members.map { member in
            (member.key, ConfigReader(value: member.value, path: ConfigPath.key(member.key, in: path), log: log))
        }
    }

    /// Reads an object with fixed keys through `body`, then reports every key `body` did not ask for.
    func object<T>(_ body: (ConfigObjectReader) -> T?) -> T? {
        guard case .object(let members) = value else { return expected("an object") }
        let reader = ConfigObjectReader(node: self, members: members)
        let result = body(reader)
        reader.rejectUnknownKeys()
        return result
    }
}
