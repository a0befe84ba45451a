/// The reliable-UDP listener's pre-shared keys: one `CLIENT_ID HEX_KEY` per line.
///
/// Blank lines and lines starting with `#` are skipped, and a `#` after the key starts a comment. The id
/// follows `ReliableClientID`'s rules; the key is 64 hex digits (32 bytes), either case; fields are separated
/// by spaces or tabs. Every mistake is an error naming its line: a bad id, a key of the wrong length or with a
/// non-hex digit, an all-zero key, an extra field, an id given twice (with the line of the first).
public struct KeysFile: Sendable, Equatable {
    /// One client's key.
    public struct Entry: Sendable, Equatable {
        /// The client id.
        public var clientID: String
        /// 32 bytes.
        public var key: [UInt8]
        /// Where it was, counting from 1.
        public var line: Int
    }

    /// The keys in file order.
    public var entries: [Entry]

    /// A file without keys: every client is refused.
    public static let empty = KeysFile(entries: [])

    /// The keys by client id, as `ReliableServerHandshake` takes them.
    public var keys: [String: [UInt8]] {
        Dictionary(entries.map { ($0.clientID, $0.key) }, uniquingKeysWith: { first, _ in first })
    }

    /// Parses a keys file's text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(KeysFileError) -> KeysFile {
        var entries: [Entry] = []
        var seen: [String: Int] = [:]
        var number = 0
        // "\r\n" is one Character, a newline like "\n" and "\r".
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            number += 1
            var line = rawLine
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            func fail(_ message: String) -> KeysFileError { KeysFileError(file: file, line: number, message: message) }
            guard fields.count == 2 else {
                throw fail(fields.count == 1
                    ? "expected CLIENT_ID HEX_KEY, found only one field"
                    : "expected CLIENT_ID HEX_KEY, found \(fields.count) fields")
            }
            let id = String(fields[0])
            guard ReliableClientID.isValid(id) else {
                throw fail("client id '\(Self.printable(id))' must be 1-64 characters of A-Z a-z 0-9 . _ @ -")
            }
            if let first = seen[id] { throw fail("client id '\(id)' already has a key on line \(first)") }
            let hex = Array(fields[1].utf8)
            guard hex.count == 2 * ReliableWire.keySize else {
                throw fail("key for '\(id)' has \(hex.count) hex digits, expected \(2 * ReliableWire.keySize) (32 bytes)")
            }
            guard let key = Self.decodeHex(hex) else { throw fail("key for '\(id)' is not hexadecimal") }
            guard key.contains(where: { $0 != 0 }) else { throw fail("key for '\(id)' is all zeros") }
            seen[id] = number
            entries.append(Entry(clientID: id, key: key, line: number))
        }
        return KeysFile(entries: entries)
    }

    /// A keys file line for `clientID` and `key`, as `relayd keygen` prints it.
    public static func line(clientID: String, key: [UInt8]) -> String {
        precondition(ReliableClientID.isValid(clientID), "an invalid client id")
        precondition(key.count == ReliableWire.keySize, "a key of the wrong size")
        return clientID + " " + hex(key)
    }

    /// Lowercase hex.
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of an even number of hex digits, or nil.
    static func decodeHex(_ digits: [UInt8]) -> [UInt8]? {
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// An id for an error message: at most 64 characters, anything unprintable as `?`.
    private static func printable(_ id: String) -> String {
        String(id.unicodeScalars.prefix(64).map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?" })
    }
}
