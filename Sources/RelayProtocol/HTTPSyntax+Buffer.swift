// Scans over a range of a raw buffer, written as plain index loops: the generic `Slice` algorithms they replace
// (`firstIndex(of:)`, `allSatisfy`, `elementsEqual`) cost a metadata lookup per byte in debug builds, which made the
// parser dozens of times slower there than in release.
extension HTTPSyntax {
    /// The first offset in `range` holding `byte`, or nil.
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> Int? {
        var index = range.lowerBound
        while index < range.upperBound {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    /// Whether every byte in `range` satisfies `predicate`; true for an empty range.
    static func allSatisfy(
        _ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ predicate: (UInt8) -> Bool
    ) -> Bool {
        var index = range.lowerBound
        while index < range.upperBound {
            if !predicate(bytes[index]) { return false }
            index += 1
        }
        return true
    }

    /// Whether the bytes in `range` are exactly the ASCII `text`.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        var offset = 0
        while offset < range.count {
            if bytes[range.lowerBound + offset] != expected[offset] { return false }
            offset += 1
        }
        return true
    }

    /// Whether `bytes` spell `lower` (lower-case ASCII) in any case.
    @inline(__always)
    static func equalsLower(_ bytes: UnsafeRawBufferPointer, _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let expected = lower.utf8Start
        for index in 0..<bytes.count where lowercased(bytes[index]) != expected[index] { return false }
        return true
    }

    /// Whether the bytes in `range` spell `text` with ASCII letters in any case.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        guard range.count == text.utf8.count else { return false }
        var index = range.lowerBound
        for byte in text.utf8 {
            if lowercased(bytes[index]) != lowercased(byte) { return false }
            index += 1
        }
        return true
    }

    /// Calls `body` with each element of the comma-separated list at `range`, trimmed of spaces and tabs, empty
    /// elements skipped; no array is built.
    @inline(__always)
    static func forEachListElement(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>,
                                   _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            var end = start
            while end < range.upperBound, bytes[end] != UInt8(ascii: ",") { end += 1 }
            var low = start
            var high = end
            while low < high, isWhitespace(bytes[low]) { low += 1 }
            while high > low, isWhitespace(bytes[high - 1]) { high -= 1 }
            if high > low { body(UnsafeRawBufferPointer(rebasing: bytes[low..<high])) }
            start = end + 1
        }
    }

    /// Whether the bytes at `first` and at `second` are the same.
    static func equalBytes(_ bytes: UnsafeRawBufferPointer, _ first: Range<Int>, _ second: Range<Int>) -> Bool {
        guard first.count == second.count else { return false }
        for offset in 0..<first.count where bytes[first.lowerBound + offset] != bytes[second.lowerBound + offset] {
            return false
        }
        return true
    }

    /// The bytes in `range`, copied.
    static func copy(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: bytes[range]))
    }

    /// The bytes in `range` as text, invalid UTF-8 replaced by U+FFFD.
    static func string(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
