import Foundation
import Testing
@testable import RelayCore
import TestSupport

/// Plain JSON documents, which JSON5 must read exactly as JSON does.
private let handWritten: [String] = [
    "{}", "[]", "0", "-0", "1", "-1", "1.5", "-1.5e-7", "1E+2", "1e-2", "0.1", "123456789",
    "9007199254740993", "18446744073709551615", "1.7976931348623157e308", "2.2250738585072014e-308", "5e-324",
    "true", "false", "null", "\"\"", "\"plain\"",
    #""\"\\\/\b\f\n\r\t""#,
    #""\u0000\u001f\u0041\u00e9\u4E2D\uFFFD""#,
    #""\uD83D\uDE00\ud834\udd1e""#,
    "\"日本語 😀 e\u{301} \u{2028}\u{2029}\"",
    #"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
    " \t\r\n[ 1 , 2 ,\n 3 ]\n ",
    #"[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]"#,
    #"{"":"empty key","key with spaces":1,"\u0041":2,"ünï":3}"#,
    #"{"listeners":[{"name":"web","listen":"127.0.0.1:8080","backend":"echo"}],"drain_timeout":"5s"}"#,
    #"[0,-0,0.0,1e0,1e1,1e-1,10,100,1000,-1000000,3.141592653589793]"#,
    #"[1e21,1e22,1e23,9.999999999999999e22,4.35,0.30000000000000004]"#,
    #"{"nested":{"deeper":{"deepest":[1,{"x":[]}]}}}"#,
    #"["\/", "\\\\", "\"\"", "'"]"#,
    "[\"\u{7F}\", \"\u{80}\", \"a\u{FEFF}b\", \"\u{10FFFF}\"]",
]

/// A JSON document from a seeded generator: nested objects and arrays of numbers (integers, fractions,
/// exponents, all within a Double's range), strings with every escape and raw non-ASCII, booleans and nulls,
/// with varied white space.
private func generatedDocument(seed: UInt64) -> String {
    let random = SplitMix64(seed: seed)
    func pick(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    func space() -> String { ["", " ", "\n", "\t", "\r\n  "][pick(5)] }
    func number() -> String {
        let sign = pick(3) == 0 ? "-" : ""
        let integer = pick(4) == 0 ? "0" : String(random.next() % [10, 1000, 1 << 31, 1 << 60][pick(4)] + 1)
        let fraction = pick(2) == 0 ? "" : "." + String(random.next() % 1_000_000)
        let exponent = pick(3) == 0 ? ["e", "E"][pick(2)] + ["", "+", "-"][pick(3)] + String(pick(280)) : ""
        return sign + integer + fraction + exponent
    }
    func string() -> String {
        var text = "\""
        for _ in 0..<pick(12) {
            switch pick(10) {
            case 0: text += [#"\""#, #"\\"#, #"\/"#, #"\b"#, #"\f"#, #"\n"#, #"\r"#, #"\t"#][pick(8)]
            case 1:
                let code = String([pick(0xD800), 0xE000 + pick(0x2000)][pick(2)], radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - code.count) + code
            case 2: text += "\\uD83D\\uDE0" + String(pick(10))
            case 3: text += ["é", "中", "😀", "\u{2028}", "\u{A0}"][pick(5)]
            default: text += String(UnicodeScalar(UInt8(0x20 + pick(0x5F))))
                .replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            }
        }
        return text + "\""
    }
    func value(depth: Int) -> String {
        switch depth == 0 ? 5 + pick(2) : pick(depth > 3 ? 5 : 8) {
        case 0, 1: return number()
        case 2: return string()
        case 3: return ["true", "false"][pick(2)]
        case 4: return "null"
        case 5, 7:
            let elements = (0..<pick(6)).map { _ in space() + value(depth: depth + 1) + space() }
            return "[" + elements.joined(separator: ",") + "]"
        default:
            // Keys are unique: JSON leaves duplicates to the reader, and Foundation's differs.
            let members = (0..<pick(6)).map { index in
                space() + "\"k\(index)\(pick(100))\"" + space() + ":" + space() + value(depth: depth + 1) + space()
            }
            return "{" + members.joined(separator: ",") + "}"
        }
    }
    return space() + value(depth: 0) + space()
}

/// A JSON tree as `JSONDecoder` reads it: the reader config files went through before `JSON5Document`.
private struct DecodedJSON: Decodable {
    let value: ConfigValue

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let container = try? decoder.container(keyedBy: Key.self) {
            value = .object(try container.allKeys.sorted { $0.stringValue < $1.stringValue }.map { key in
                (key.stringValue, try container.decode(DecodedJSON.self, forKey: key).value)
            })
        } else if var container = try? decoder.unkeyedContainer() {
            var elements: [ConfigValue] = []
            while !container.isAtEnd { elements.append(try container.decode(DecodedJSON.self).value) }
            value = .array(elements)
        } else {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                value = .null
            } else if let flag = try? container.decode(Bool.self) {
                value = .bool(flag)
            } else if let number = try? container.decode(Double.self) {
                value = .number(number)
            } else {
                value = .string(try container.decode(String.self))
            }
        }
    }
}

/// `JSONSerialization`'s result as a tree with every object's members sorted by key (Foundation does not keep
/// their order).
private func foundationValue(_ any: Any) -> ConfigValue? {
    switch any {
    case is NSNull:
        return .null
    case let number as NSNumber:
        if type(of: number) == type(of: NSNumber(value: true)) { return .bool(number.boolValue) }
        return .number(number.doubleValue)
    case let text as String:
        return .string(text)
    case let array as [Any]:
        var elements: [ConfigValue] = []
        for element in array {
            guard let value = foundationValue(element) else { return nil }
            elements.append(value)
        }
        return .array(elements)
    case let object as [String: Any]:
        var members: [(key: String, value: ConfigValue)] = []
        for (key, element) in object.sorted(by: { $0.key < $1.key }) {
            guard let value = foundationValue(element) else { return nil }
            members.append((key, value))
        }
        return .object(members)
    default:
        return nil
    }
}

/// `value` with every object's members sorted by key, to compare with `foundationValue`.
private func sortedByKey(_ value: ConfigValue) -> ConfigValue {
    switch value {
    case .object(let members): .object(members.sorted { $0.key < $1.key }.map { ($0.key, sortedByKey($0.value)) })
    case .array(let elements): .array(elements.map(sortedByKey))
    default: value
    }
}

/// Whether two trees are equal, numbers to 13 significant digits: `JSONSerialization` on Linux does not round
/// long numbers correctly (it reads `0.30000000000000004` as `0.3000000000000001`, `-9.206172336279309e-108` as
/// `-9.2061723362793e-108`); `JSONDecoder` and Python do, and so does `JSON5Document`.
private func nearlyEqual(_ lhs: ConfigValue, _ rhs: ConfigValue) -> Bool {
    switch (lhs, rhs) {
    case let (.object(left), .object(right)):
        left.count == right.count && zip(left, right).allSatisfy { $0.key == $1.key && nearlyEqual($0.value, $1.value) }
    case let (.array(left), .array(right)):
        left.count == right.count && zip(left, right).allSatisfy { nearlyEqual($0, $1) }
    case let (.number(left), .number(right)):
        left == right || abs(left - right) <= 1e-13 * max(abs(left), abs(right))
    default:
        lhs == rhs
    }
}

/// JSON5 is a superset of JSON: on plain JSON, `JSON5Document` must agree with Foundation's JSON readers.
@Suite(.computeBound) struct ConfigJSON5DifferentialTests {
    static let documents = handWritten + (1...30).map { generatedDocument(seed: UInt64($0)) }

    @Test(arguments: documents)
    func readsPlainJSONAsJSONSerializationDoes(text: String) throws {
        let json = try JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)
        let expected = try #require(foundationValue(json), "Foundation returned \(type(of: json))")
        let document = try JSON5Document(parsing: text)
        #expect(nearlyEqual(sortedByKey(document.value), expected), "\(text.debugDescription)")
    }

    // Exactly, numbers included: the config's numbers read as they did when JSONDecoder read the file.
    @Test(arguments: documents)
    func readsPlainJSONExactlyAsJSONDecoderDoes(text: String) throws {
        let decoded = try JSONDecoder().decode(DecodedJSON.self, from: Data(text.utf8))
        let document = try JSON5Document(parsing: text)
        #expect(sortedByKey(document.value) == decoded.value, "\(text.debugDescription)")
    }

    @Test func generatedDocumentsAreVaried() {
        let generated = Self.documents.dropFirst(handWritten.count)
        #expect(Set(generated).count >= 25)
        #expect(generated.filter { $0.contains("{") && $0.contains("[") }.count >= 10)
        #expect(generated.contains { $0.contains("\\u") } && generated.contains { $0.contains("e-") })
    }
}
