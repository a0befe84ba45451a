/// Reads big-endian fields from a byte array, never past its end.
///
/// Every read checks the bytes left first and returns nil when there are too few; the decoders turn a nil into
/// a typed `ReliablePacketError`. Nothing here can trap on short or hostile input.
struct ReliableByteReader {
    /// The bytes being read.
    let bytes: [UInt8]
    /// The next byte to read.
    private(set) var offset: Int
    /// Where reading stops (exclusive); the tag of a session packet lies beyond it.
    let end: Int

    /// A reader over `bytes[offset..<end]`; `end` defaults to the whole array.
    init(_ bytes: [UInt8], offset: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        let end = min(end ?? bytes.count, bytes.count)
        self.end = max(end, 0)
        self.offset = min(max(offset, 0), self.end)
    }

    /// Bytes left to read.
    var remaining: Int { end - offset }

    mutating func u8() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() -> UInt16? {
        guard remaining >= 2 else { return nil }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for index in offset..<(offset + 4) { value = value << 8 | UInt32(bytes[index]) }
        offset += 4
        return value
    }

    mutating func u64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for index in offset..<(offset + 8) { value = value << 8 | UInt64(bytes[index]) }
        offset += 8
        return value
    }

    /// The next `count` bytes, or nil if fewer are left (or `count` is negative).
    mutating func bytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Moves past `count` bytes; false if fewer are left.
    mutating func skip(_ count: Int) -> Bool {
        guard count >= 0, remaining >= count else { return false }
        offset += count
        return true
    }
}
