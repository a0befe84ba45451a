/// An http route's API keys (`api_keys_file`): one `NAME KEY` a line, `#` comments and blank lines ignored. The
/// name goes to the access log and the per-key rate limit; the key never leaves this value.
public struct APIKeys: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        let key: [UInt8]
    }

    /// The file as written in the config, for messages.
    public let file: String
    public let entries: [Entry]

    /// The shortest key accepted: shorter ones are guessable.
    public static let minimumKeyLength = 16

    /// Why a keys file was refused: the line and what is wrong, never the key.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Parses the file's text.
    static func parse(_ text: String, file: String) throws -> APIKeys {
        var entries: [Entry] = []
        var names = Set<String>()
        var keys = Set<[UInt8]>()
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let parts = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            let place = "line \(number + 1)"
            guard parts.count == 2 else { throw Failure(description: "\(place): expected `NAME KEY`") }
            let name = String(parts[0])
            guard name.utf8.count <= 64, name.utf8.allSatisfy({ Self.isNameByte($0) }) else {
                throw Failure(description: "\(place): a name is 1 to 64 of A-Z a-z 0-9 . _ @ -")
            }
            let key = Array(parts[1].utf8)
            guard key.count >= minimumKeyLength, key.count <= 512, key.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw Failure(description: "\(place): a key is \(minimumKeyLength) to 512 printable characters "
                              + "without spaces (the key of \(name))")
            }
            guard names.insert(name).inserted else { throw Failure(description: "\(place): \(name) is named twice") }
            guard keys.insert(key).inserted else { throw Failure(description: "\(place): the key of \(name) is used twice") }
            entries.append(Entry(name: name, key: key))
        }
        guard !entries.isEmpty else { throw Failure(description: "no keys: expected `NAME KEY` lines") }
        return APIKeys(file: file, entries: entries)
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "@")
            || byte == UInt8(ascii: "-")
    }

    /// The name of the key `presented` is, or nil. Every key is compared, each in time that depends only on the
    /// lengths, so how long the answer takes says nothing about which bytes matched.
    func name(of presented: some Collection<UInt8>) -> String? {
        let presented = Array(presented)
        var found = -1
        for (index, entry) in entries.enumerated() {
            let equal = Self.constantTimeEqual(entry.key, presented)
            // Branch-free select of the first match.
            let take = equal && found < 0
            found = take ? index : found
        }
        return found >= 0 ? entries[found].name : nil
    }

    /// Whether `a` and `b` are equal, looking at every byte of the longer one whatever they hold.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt(a.count ^ b.count)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let left = index < a.count ? a[index] : 0
            let right = index < b.count ? b[index] : 0
            difference |= UInt(left ^ right)
        }
        return difference == 0
    }
}

/// An http route's `rate_limit`: per API key name, per client address, and for the whole route.
public struct RouteRateLimitConfig: Sendable, Equatable {
    public var perKey: RateLimit?
    public var perIP: RateLimit?
    public var total: RateLimit?

    public init(perKey: RateLimit? = nil, perIP: RateLimit? = nil, total: RateLimit? = nil) {
        self.perKey = perKey
        self.perIP = perIP
        self.total = total
    }

    public var isEnabled: Bool { perKey != nil || perIP != nil || total != nil }

    static func read(from node: ConfigReader) -> RouteRateLimitConfig? {
        node.object { fields in
            var config = RouteRateLimitConfig()
            fields.read("per_key", into: &config.perKey) { RateLimitConfig.readRule($0) }
            fields.read("per_ip", into: &config.perIP) { RateLimitConfig.readRule($0) }
            fields.read("total", into: &config.total) { RateLimitConfig.readRule($0) }
            return fields.isValid ? config : nil
        }
    }
}
