extension Duration {
    /// The duration in (fractional) seconds, for arithmetic that `Duration` does not offer.
    var secondsValue: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Short human form for logs and error messages: `250ms`, `1.5s`, `60s`.
    var compactDescription: String {
        let seconds = secondsValue
        if seconds == 0 { return "0s" }
        if abs(seconds) < 1 { return Self.trimmed(seconds * 1000) + "ms" }
        return Self.trimmed(seconds) + "s"
    }

    /// `value` with at most three decimals and no trailing zeros.
    private static func trimmed(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        if rounded == rounded.rounded(), abs(rounded) < 1e15 { return String(Int64(rounded)) }
        return String(rounded)
    }
}
