/// A moment as a UTC calendar date and time of day, from a count of seconds (and nanoseconds) since
/// 1970-01-01T00:00:00Z, with the renderings relayd writes: the HTTP `Date` field, and ISO 8601 for logs and the
/// admin API.
///
/// Pure arithmetic (Howard Hinnant's `civil_from_days` over the proleptic Gregorian calendar), with no clock and
/// no `gmtime_r`: the caller passes the time (the real clock in the server, fixed ones in tests), every time relayd
/// prints goes through this one conversion, and any `Int64` count of seconds converts without trapping.
public struct UTCDate: Sendable, Equatable {
    /// The year; 0 is 1 BC, as in ISO 8601.
    public let year: Int64
    /// 1...12.
    public let month: Int
    /// 1...31.
    public let day: Int
    /// 0...23.
    public let hour: Int
    /// 0...59.
    public let minute: Int
    /// 0...59 (a count of seconds since 1970 has no leap seconds).
    public let second: Int
    /// 0..<1_000_000_000.
    public let nanosecond: Int
    /// 0 for Sunday through 6 for Saturday.
    public let weekday: Int

    /// The date `seconds` (plus `nanoseconds`, clamped to 0..<1_000_000_000) after 1970-01-01T00:00:00Z;
    /// negative `seconds` count back from it.
    public init(secondsSince1970 seconds: Int64, nanoseconds: Int = 0) {
        var days = seconds / 86_400
        var secondOfDay = seconds - days * 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        // civil_from_days: the date of a day count, in 400-year eras that start on 1 March.
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = Int(month)
        self.day = Int(dayOfYear - (153 * monthFromMarch + 2) / 5 + 1)
        self.hour = Int(secondOfDay / 3_600)
        self.minute = Int(secondOfDay / 60 % 60)
        self.second = Int(secondOfDay % 60)
        self.nanosecond = min(max(0, nanoseconds), 999_999_999)
        // 1970-01-01 was a Thursday.
        self.weekday = Int(((days + 4) % 7 + 7) % 7)
    }

    /// The IMF-fixdate of RFC 9110 §5.6.7, for the HTTP `Date` field: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public var imfFixdate: String {
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        return "\(weekdays[weekday]), \(Self.padded(day, 2)) \(months[month - 1]) \(yearText) \(timeText) GMT"
    }

    /// ISO 8601 to the second, for the admin API: `2026-11-27T09:00:00Z`.
    public var iso8601: String {
        "\(yearText)-\(Self.padded(month, 2))-\(Self.padded(day, 2))T\(timeText)Z"
    }

    /// ISO 8601 to the millisecond (truncated, never rounded up into the next second), for log lines:
    /// `2026-01-02T03:04:05.678Z`.
    public var iso8601Milliseconds: String {
        "\(yearText)-\(Self.padded(month, 2))-\(Self.padded(day, 2))T\(timeText).\(Self.padded(nanosecond / 1_000_000, 3))Z"
    }

    /// `HH:MM:SS`.
    private var timeText: String {
        "\(Self.padded(hour, 2)):\(Self.padded(minute, 2)):\(Self.padded(second, 2))"
    }

    /// The year in at least four digits, with a `-` before years before 1 BC.
    private var yearText: String {
        (year < 0 ? "-" : "") + Self.padded(year.magnitude, 4)
    }

    /// `value` in decimal with leading zeros up to `width` digits.
    private static func padded(_ value: some BinaryInteger, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
