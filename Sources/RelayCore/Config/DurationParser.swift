/// Reads and writes durations the way the config and the logs spell them: `250ms`, `15s`, `1m30s`, `1.5s`,
/// `100us`, `10ns`.
///
/// A unit is always required: a bare `30` could mean seconds or milliseconds, and guessing wrong by a factor of
/// a thousand on a timeout is the kind of mistake that only shows up under load.
public enum DurationParser {
    /// The units a duration may use, largest first, with their length in nanoseconds.
    private static let units: [(name: String, nanoseconds: Int64)] = [
        ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
        ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1),
    ]

    /// Parses one or more `<number><unit>` parts written largest unit first (`1h30m`, `1m30.5s`), with units
    /// `h`, `m`, `s`, `ms`, `us` (or `µs`) and `ns`. A number may have a fraction (`1.5s`); digits finer than a
    /// nanosecond are dropped.
    ///
    /// Returns nil for anything else: no unit, a sign (durations here are never negative), spaces, a unit used
    /// twice or out of order (`30s1m` is more likely a typo than a wish), or more than about 292 years.
    public static func parse(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var total: Int64 = 0
        var index = 0
        var previousUnitLength = Int64.max
        while index < bytes.count {
            let integerStart = index
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            let integerDigits = bytes[integerStart..<index]
            var fractionDigits = bytes[index..<index]
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                let fractionStart = index
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
                fractionDigits = bytes[fractionStart..<index]
                guard !fractionDigits.isEmpty else { return nil }
            }
            guard !integerDigits.isEmpty else { return nil }
            let unitStart = index
            while index < bytes.count, !isDigit(bytes[index]), bytes[index] != UInt8(ascii: ".") { index += 1 }
            let unitName = String(decoding: bytes[unitStart..<index], as: UTF8.self)
            guard let unit = units.first(where: { $0.name == unitName }) else { return nil }
            guard unit.nanoseconds < previousUnitLength else { return nil }
            previousUnitLength = unit.nanoseconds
            guard let part = nanoseconds(integer: integerDigits, fraction: fractionDigits, unit: unit.nanoseconds)
            else { return nil }
            let (sum, overflow) = total.addingReportingOverflow(part)
            guard !overflow else { return nil }
            total = sum
        }
        return .nanoseconds(total)
    }

    /// Renders a duration the way `parse` reads it, with the fewest parts: `0s`, `250ms`, `100us`, `15s`,
    /// `1m30s`, `1h5s`, `1.5s`. Below a second it uses the largest unit that divides it exactly. Negative
    /// durations get a leading `-` (they only appear in logs, never in a config).
    public static func format(_ duration: Duration) -> String {
        if duration < .zero { return "-" + format(.zero - duration) }
        let (seconds, attoseconds) = duration.components
        let wholeSeconds = UInt64(seconds)
        let fraction = UInt64(attoseconds / 1_000_000_000)
        if wholeSeconds == 0 {
            if fraction == 0 { return "0s" }
            if fraction % 1_000_000 == 0 { return "\(fraction / 1_000_000)ms" }
            if fraction % 1_000 == 0 { return "\(fraction / 1_000)us" }
            return "\(fraction)ns"
        }
        var out = ""
        let hours = wholeSeconds / 3600
        let minutes = wholeSeconds % 3600 / 60
        let rest = wholeSeconds % 60
        if hours > 0 { out += "\(hours)h" }
        if minutes > 0 { out += "\(minutes)m" }
        if rest > 0 || fraction > 0 {
            out += "\(rest)"
            if fraction > 0 {
                var digits = String(fraction)
                digits = String(repeating: "0", count: 9 - digits.count) + digits
                while digits.hasSuffix("0") { digits.removeLast() }
                out += ".\(digits)"
            }
            out += "s"
        }
        return out
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// `integer.fraction` times `unit`, exactly, in nanoseconds; nil on overflow.
    private static func nanoseconds(integer: ArraySlice<UInt8>, fraction: ArraySlice<UInt8>, unit: Int64) -> Int64? {
        var whole: Int64 = 0
        for digit in integer {
            let (times10, overflow1) = whole.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.addingReportingOverflow(Int64(digit - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            whole = next
        }
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        // The fraction is at most 18 digits so both it and 10^digits fit in an Int64; the product with the unit
        // may not, hence the double-width multiply. The quotient is below `unit`, so it cannot overflow.
        let kept = fraction.prefix(18)
        guard !kept.isEmpty else { return scaled }
        var numerator: Int64 = 0
        var denominator: Int64 = 1
        for digit in kept {
            numerator = numerator * 10 + Int64(digit - UInt8(ascii: "0"))
            denominator *= 10
        }
        let product = numerator.multipliedFullWidth(by: unit)
        let part = denominator.dividingFullWidth(product).quotient
        let (sum, sumOverflow) = scaled.addingReportingOverflow(part)
        return sumOverflow ? nil : sum
    }
}
