/// Sizes in bytes as the config writes them: `512B`, `64KiB`, `1MiB`, `1GiB`.
///
/// Only binary units are accepted: `KB` is 1000 bytes to some readers and 1024 to others, and buffer sizes are
/// meant to be powers of two.
enum ByteSize {
    /// The accepted units, largest first.
    static let units: [(name: String, bytes: Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]

    /// Parses a whole number followed by a unit; nil for anything else (no unit, a fraction, a sign, spaces,
    /// overflow).
    static func parse(_ text: String) -> Int? {
        let digits = text.prefix { ("0"..."9").contains($0) }
        let unitName = text.dropFirst(digits.count)
        guard let number = Int(digits), let unit = units.first(where: { $0.name == unitName }) else { return nil }
        let (bytes, overflow) = number.multipliedReportingOverflow(by: unit.bytes)
        return overflow ? nil : bytes
    }

    /// Renders `bytes` in the largest unit that divides it exactly: `262144` is `256KiB`.
    static func format(_ bytes: Int) -> String {
        for unit in units where bytes != 0 && bytes % unit.bytes == 0 {
            return "\(bytes / unit.bytes)\(unit.name)"
        }
        return "\(bytes)B"
    }
}
