/// The config file as a generic tree, before any key has a meaning.
///
/// `JSON5Document` parses the text into this tree; reading the typed settings from the tree rather than decoding
/// them straight from the text lets the reader see every key (including unknown ones), apply defaults, and report
/// every problem with its path instead of stopping at the first.
enum ConfigValue: Sendable, Equatable {
    /// Members in the order they are written, so problems are reported top to bottom.
    case object([(key: String, value: ConfigValue)])
    case array([ConfigValue])
    case string(String)
    /// JSON5 has one number type (hex, `Infinity` and `NaN` included); integer settings check that the value is
    /// whole and in range.
    case number(Double)
    case bool(Bool)
    case null

    static func == (lhs: ConfigValue, rhs: ConfigValue) -> Bool {
        switch (lhs, rhs) {
        case let (.object(left), .object(right)):
            left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case let (.array(left), .array(right)): left == right
        case let (.string(left), .string(right)): left == right
        case let (.number(left), .number(right)): left == right
        case let (.bool(left), .bool(right)): left == right
        case (.null, .null): true
        default: false
        }
    }

    /// How the value is named in a message after "found": `the string "abc"`, `the number 1.5`, `an empty array`.
    var summary: String {
        switch self {
        case .object(let members): members.isEmpty ? "an empty object" : "an object"
        case .array(let elements): elements.isEmpty ? "an empty array" : "an array"
        case .string(let text):
            "the string \(Logger.jsonString(text.count > 60 ? String(text.prefix(57)) + "..." : text))"
        case .number(let number): "the number \(ConfigValue.render(number))"
        case .bool(let flag): "`\(flag)`"
        case .null: "`null`"
        }
    }

    /// A number as a person would write it: `10000` rather than `10000.0`.
    static func render(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }
}
