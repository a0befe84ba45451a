/// The rules for metric and label names that relayd writes.
///
/// The metric registry checks the names it is given once, when a family is created, so a typo fails at
/// startup instead of producing an exposition that Prometheus refuses on every scrape.
public enum PrometheusName {
    /// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`, the grammar of metric names.
    public static func isValidMetricName(_ name: String) -> Bool {
        isValid(name.utf8, allowingColon: true)
    }

    /// Whether `name` matches `[a-zA-Z_][a-zA-Z0-9_]*`, the grammar of label names.
    public static func isValidLabelName(_ name: String) -> Bool {
        isValid(name.utf8, allowingColon: false)
    }

    static func isValid(_ bytes: some Collection<UInt8>, allowingColon: Bool) -> Bool {
        guard let first = bytes.first, isNameStart(first, allowingColon: allowingColon) else { return false }
        return bytes.dropFirst().allSatisfy { isNameContinuation($0, allowingColon: allowingColon) }
    }

    /// Whether `byte` may begin a name: a letter, `_`, or (for metric names) `:`.
    static func isNameStart(_ byte: UInt8, allowingColon: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"): true
        case UInt8(ascii: ":"): allowingColon
        default: false
        }
    }

    /// Whether `byte` may continue a name: anything that may begin one, or a digit.
    static func isNameContinuation(_ byte: UInt8, allowingColon: Bool) -> Bool {
        isNameStart(byte, allowingColon: allowingColon) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
