/// The grammar of metric and label names as the parser checks it, written out here rather than borrowed from
/// `PrometheusName`: a test oracle must not share its rules with the code it checks.
enum PrometheusNameGrammar {
    /// Whether `bytes` is a name: `[a-zA-Z_:][a-zA-Z0-9_:]*` for metrics, `[a-zA-Z_][a-zA-Z0-9_]*` for labels.
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
