/// A JSON document built in code and written with its keys in the order given, so admin answers read the same
/// every time and tests can compare them as text.
public indirect enum JSONValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    /// Members in writing order; a key given twice is written twice (callers do not).
    case object([(String, JSONValue)])

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(Int64(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }

    /// An integer.
    public static func number(_ value: Int) -> JSONValue { .int(Int64(value)) }
    /// A number; NaN and infinities, which JSON cannot hold, become `null`.
    public static func number(_ value: Double) -> JSONValue { value.isFinite ? .double(value) : .null }
    /// A string, or `null` for nil.
    public static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    /// A number, or `null` for nil.
    public static func optional(_ value: Double?) -> JSONValue { value.map { .number($0) } ?? .null }

    /// The compact JSON text.
    public var text: String {
        var out = ""
        write(to: &out)
        return out
    }

    /// The JSON text laid out for people: one element or member a line, each level indented two more spaces,
    /// `"key" : value` (the layout of Foundation's pretty-printing `JSONEncoder`, which `relayd probe --json`
    /// used before). Empty arrays and objects stay `[]` and `{}`.
    public var prettyText: String {
        var out = ""
        writePretty(to: &out, indent: 0)
        return out
    }

    private func writePretty(to out: inout String, indent: Int) {
        let inner = String(repeating: " ", count: indent + 2)
        switch self {
        case let .array(elements) where !elements.isEmpty:
            out += "[\n"
            for (index, element) in elements.enumerated() {
                if index > 0 { out += ",\n" }
                out += inner
                element.writePretty(to: &out, indent: indent + 2)
            }
            out += "\n" + String(repeating: " ", count: indent) + "]"
        case let .object(members) where !members.isEmpty:
            out += "{\n"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += ",\n" }
                out += inner
                JSONValue.quote(key, into: &out)
                out += " : "
                value.writePretty(to: &out, indent: indent + 2)
            }
            out += "\n" + String(repeating: " ", count: indent) + "}"
        default:
            write(to: &out)
        }
    }

    private func write(to out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(value): out += value ? "true" : "false"
        case let .int(value): out += String(value)
        case let .double(value):
            if value.isFinite {
                // Whole numbers as integers (12, not 12.0); the rest in the shortest form that reads back exactly.
                if value == value.rounded(), abs(value) < 1e15 { out += String(Int64(value)) } else { out += "\(value)" }
            } else {
                out += "null"
            }
        case let .string(value): JSONValue.quote(value, into: &out)
        case let .array(elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(to: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (index, (key, value)) in members.enumerated() {
                if index > 0 { out += "," }
                JSONValue.quote(key, into: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    /// Writes `text` as a JSON string literal: quotes, backslashes and every control character escaped (RFC 8259
    /// §7), and U+2028/U+2029 too, so the text is also safe inside a `<script>`.
    public static func quote(_ text: String, into out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out = ""
        quote(text, into: &out)
        return out
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool { lhs.text == rhs.text }
}
