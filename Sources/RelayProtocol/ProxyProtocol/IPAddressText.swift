/// IP addresses as text and back, without the C library: the PROXY protocol's version 1 carries them as text,
/// and its parser must be pure (it is fuzzed, and reads bytes from the network).
public enum IPAddressText {
    /// `192.0.2.1` for 4 bytes, the RFC 5952 form (`2001:db8::1`) for 16; nil for any other count.
    public static func format(_ bytes: [UInt8]) -> String? {
        switch bytes.count {
        case 4: return bytes.map { String($0) }.joined(separator: ".")
        case 16: return formatIPv6(bytes)
        default: return nil
        }
    }

    /// The 4 bytes of a dotted-quad IPv4 address (each part 0-255, 1-3 digits, no leading zero), or nil.
    public static func parseIPv4<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(4)
        var value = 0
        var digits = 0
        var leadingZero = false
        for character in text {
            if character == UInt8(ascii: ".") {
                guard digits > 0, bytes.count < 3 else { return nil }
                bytes.append(UInt8(value))
                value = 0
                digits = 0
                continue
            }
            guard let digit = decimal(character) else { return nil }
            // A leading zero is refused: `010` is octal to inet_aton and decimal to others.
            if digits == 1 && leadingZero { return nil }
            if digits == 0 { leadingZero = digit == 0 }
            value = value * 10 + digit
            digits += 1
            guard digits <= 3, value <= 255 else { return nil }
        }
        guard digits > 0, bytes.count == 3 else { return nil }
        bytes.append(UInt8(value))
        return bytes
    }

    /// The 16 bytes of an IPv6 address in any RFC 4291 text form (`::` once, a trailing dotted quad), or nil.
    /// Zone identifiers (`%eth0`) are refused.
    public static func parseIPv6<C: Collection<UInt8>>(_ text: C) -> [UInt8]? {
        let characters = Array(text)
        guard characters.count >= 2, characters.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var compressed = false
        var index = 0
        if characters.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressed = true
            index = 2
            if index == characters.count { return [UInt8](repeating: 0, count: 16) }
        } else if characters[0] == UInt8(ascii: ":") {
            return nil
        }
        while index < characters.count {
            // A dotted quad ends the address and stands for two groups.
            var end = index
            while end < characters.count, characters[end] != UInt8(ascii: ":") { end += 1 }
            let part = characters[index..<end]
            var groups: [UInt16]
            if part.contains(UInt8(ascii: ".")) {
                guard end == characters.count, let quad = parseIPv4(part) else { return nil }
                groups = [UInt16(quad[0]) << 8 | UInt16(quad[1]), UInt16(quad[2]) << 8 | UInt16(quad[3])]
            } else {
                guard !part.isEmpty, part.count <= 4 else { return nil }
                var value: UInt16 = 0
                for character in part {
                    guard let digit = hex(character) else { return nil }
                    value = value << 4 | UInt16(digit)
                }
                groups = [value]
            }
            if compressed { tail += groups } else { head += groups }
            index = end
            guard index < characters.count else { break }
            // At a colon: `::` compresses (once), a single colon separates; an address does not end in one colon.
            index += 1
            if index < characters.count, characters[index] == UInt8(ascii: ":") {
                guard !compressed else { return nil }
                compressed = true
                index += 1
            } else if index == characters.count {
                return nil
            }
        }
        let count = head.count + tail.count
        if compressed {
            guard count <= 7 else { return nil }
        } else {
            guard count == 8 else { return nil }
        }
        let groups = head + [UInt16](repeating: 0, count: 8 - count) + tail
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for group in groups {
            bytes.append(UInt8(group >> 8))
            bytes.append(UInt8(truncatingIfNeeded: group))
        }
        return bytes
    }

    /// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups (the first of equals)
    /// as `::`.
    static func formatIPv6(_ bytes: [UInt8]) -> String {
        var groups: [UInt16] = []
        for index in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])) }
        var bestStart = -1
        var bestLength = 0
        var start = -1
        for index in 0...8 {
            if index < 8, groups[index] == 0 {
                if start < 0 { start = index }
            } else if start >= 0 {
                if index - start > bestLength { bestStart = start; bestLength = index - start }
                start = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        func text(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return text(0..<8) }
        return text(0..<bestStart) + "::" + text((bestStart + bestLength)..<8)
    }

    static func decimal(_ character: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(character) ? Int(character - UInt8(ascii: "0")) : nil
    }

    static func hex(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
