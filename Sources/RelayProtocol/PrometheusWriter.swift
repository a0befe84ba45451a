/// Builds Prometheus text exposition (format 0.0.4), one family header and sample line at a time.
///
/// The writer escapes what the format requires and formats numbers the way Prometheus reads them; it trusts
/// the caller with the structure (each family's samples directly after its header, valid names), which the
/// metric registry guarantees and `PrometheusExposition` checks in tests.
public struct PrometheusWriter: Sendable {
    /// The text written so far.
    private var buffer = ""

    public init() {}

    /// Starts a family: `# HELP name help` and `# TYPE name type`, with backslashes and line feeds in `help`
    /// escaped.
    public mutating func family(_ name: String, type: PrometheusMetricType, help: String) {
        buffer += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    /// Writes `name{label="value",...} value`, with label values escaped, and the value as `format(_:)` gives it.
    public mutating func sample(_ name: String, labels: [(String, String)] = [], value: Double) {
        appendSeries(name, labels)
        buffer += " \(Self.format(value))\n"
    }

    /// Writes `name{label="value",...} value` with the exact integer text of `value`, for counters that
    /// exceed 2^53 (where a `Double` would round).
    public mutating func sample(_ name: String, labels: [(String, String)] = [], value: UInt64) {
        appendSeries(name, labels)
        buffer += " \(value)\n"
    }

    /// Everything written so far.
    public var text: String { buffer }

    /// `value` as Prometheus reads it: integral values below 2^53 without a fraction (`3`, not `3.0`),
    /// `+Inf`, `-Inf`, `NaN`, and otherwise the shortest text that reads back as the same `Double`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        // Below 2^53 every integral Double converts to Int64 exactly; -0.0 prints as 0.
        if value.rounded(.towardZero) == value, value.magnitude < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }

    private mutating func appendSeries(_ name: String, _ labels: [(String, String)]) {
        buffer += name
        guard !labels.isEmpty else { return }
        buffer += "{"
        for (index, (label, value)) in labels.enumerated() {
            if index > 0 { buffer += "," }
            buffer += label
            buffer += "=\""
            buffer += Self.escapeLabelValue(value)
            buffer += "\""
        }
        buffer += "}"
    }

    /// Help text with `\` and line feeds escaped (quotes stay as they are in help text).
    static func escapeHelp(_ text: String) -> String {
        escape(text, quotes: false)
    }

    /// A label value with `\`, `"` and line feeds escaped.
    static func escapeLabelValue(_ text: String) -> String {
        escape(text, quotes: true)
    }

    private static func escape(_ text: String, quotes: Bool) -> String {
        let special = { (byte: UInt8) in
            byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || (quotes && byte == UInt8(ascii: "\""))
        }
        // Most help texts and label values need no escaping; return them without copying.
        guard text.utf8.contains(where: special) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quotes: escaped += "\\\""
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
