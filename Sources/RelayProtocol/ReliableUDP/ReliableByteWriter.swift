/// Appends big-endian fields to a byte array: the encoding half of `ReliableByteReader`.
struct ReliableByteWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes.
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Magic, version and type: the six bytes every packet starts with.
    mutating func prefix(_ type: ReliablePacketType, version: UInt8 = ReliableWire.version) {
        bytes += ReliableWire.magic
        bytes.append(version)
        bytes.append(type.rawValue)
    }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u64(_ value: UInt64) {
        u32(UInt32(truncatingIfNeeded: value >> 32))
        u32(UInt32(truncatingIfNeeded: value))
    }

    mutating func append(_ other: [UInt8]) { bytes += other }

    mutating func zeros(_ count: Int) {
        if count > 0 { bytes.append(contentsOf: [UInt8](repeating: 0, count: count)) }
    }
}
