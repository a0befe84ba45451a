// FoundationEssentials has JSONDecoder without pulling ICU's data into the daemon.
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The config file as a generic tree, before any key has a meaning.
///
/// Decoding into this first, rather than straight into the typed structs with `Decodable`, lets the reader see
/// every key (including unknown ones), apply defaults, and report every problem with its path instead of stopping
/// at the first `DecodingError`.
enum ConfigValue: Sendable, Equatable {
    /// Members in the order they are written, so problems are reported top to bottom.
    case object([(key: String, value: ConfigValue)])
    case array([ConfigValue])
    case string(String)
    /// JSON has one number type; integer settings check that the value is whole and in range.
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

    /// Decodes JSON5 text into a tree with keys in file order, along with the outline that knows where each
    /// value sits (nil if the outline pass could not follow the text, which then only costs line numbers).
    ///
    /// A syntax error is located by the outline pass when it can, since the decoder only says the data "was not
    /// valid JSON".
    static func decode(json5 text: String) throws(ConfigError) -> (value: ConfigValue, outline: JSON5Outline?) {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        let decoded: ConfigValue
        do {
            decoded = try decoder.decode(ConfigValue.self, from: Data(text.utf8))
        } catch {
            do throws(JSON5Outline.SyntaxError) {
                _ = try JSON5Outline(scanning: text)
            } catch {
                throw ConfigError(issues: [ConfigIssue(path: "", message: "invalid JSON5: \(error.message)",
                                                       line: error.position.line, column: error.position.column)])
            }
            throw ConfigError(issues: [issue(for: error)])
        }
        let outline = try? JSON5Outline(scanning: text)
        return (decoded.ordered(by: outline, at: ""), outline)
    }

    /// The decoder's own account of a failure the outline pass did not catch.
    private static func issue(for error: any Error) -> ConfigIssue {
        guard let error = error as? DecodingError else {
            return ConfigIssue(path: "", message: "invalid JSON5: \(error)")
        }
        let context: DecodingError.Context
        switch error {
        case .dataCorrupted(let found), .typeMismatch(_, let found), .valueNotFound(_, let found),
             .keyNotFound(_, let found):
            context = found
        @unknown default:
            return ConfigIssue(path: "", message: "invalid JSON5: \(error)")
        }
        var path = ""
        for key in context.codingPath {
            path = key.intValue.map { ConfigPath.index($0, in: path) } ?? ConfigPath.key(key.stringValue, in: path)
        }
        let detail = context.debugDescription.hasPrefix("The given data was not valid JSON")
            ? "" : ": \(context.debugDescription)"
        return ConfigIssue(path: path, message: "invalid JSON5\(detail)")
    }

    /// This tree with every object's members in the order the outline saw them. Keys the outline does not know
    /// (or all keys, without an outline) are sorted by name, so the result never depends on hashing.
    private func ordered(by outline: JSON5Outline?, at path: String) -> ConfigValue {
        switch self {
        case .object(let members):
            let order = outline?.keyOrder[path] ?? []
            let rank = Dictionary(order.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
            let sorted = members.sorted { lhs, rhs in
                switch (rank[lhs.key], rank[rhs.key]) {
                case let (left?, right?): left < right
                case (.some, nil): true
                case (nil, .some): false
                case (nil, nil): lhs.key < rhs.key
                }
            }
            return .object(sorted.map { member in
                (member.key, member.value.ordered(by: outline, at: ConfigPath.key(member.key, in: path)))
            })
        case .array(let elements):
            return .array(elements.enumerated().map { index, element in
                element.ordered(by: outline, at: ConfigPath.index(index, in: path))
            })
        default:
            return self
        }
    }
}

extension ConfigValue: Decodable {
    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            var members: [(key: String, value: ConfigValue)] = []
            for key in container.allKeys {
                members.append((key.stringValue, try container.decode(ConfigValue.self, forKey: key)))
            }
            self = .object(members)
        } else if var container = try? decoder.unkeyedContainer() {
            var elements: [ConfigValue] = []
            while !container.isAtEnd { elements.append(try container.decode(ConfigValue.self)) }
            self = .array(elements)
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let flag = try? container.decode(Bool.self) {
                self = .bool(flag)
            } else {
                // The decoder checks strings and numbers only when they are decoded, so whichever attempt matches
                // the value's kind holds the error worth reporting: the string's, unless it is not a string.
                do {
                    self = .number(try container.decode(Double.self))
                } catch let numberError {
                    do {
                        self = .string(try container.decode(String.self))
                    } catch DecodingError.typeMismatch {
                        throw numberError
                    }
                }
            }
        }
    }
}
