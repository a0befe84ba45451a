import Testing
@testable import RelayProtocol
import TestSupport

@Suite(.computeBound) struct UTCDateTests {
    @Test(arguments: [
        (Int64(0), "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_700_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
        (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        (-1, "Wed, 31 Dec 1969 23:59:59 GMT"),
    ])
    func formatsIMFFixdate(seconds: Int64, expected: String) {
        #expect(UTCDate(secondsSince1970: seconds).imfFixdate == expected)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (-86_400, "1969-12-31T00:00:00Z"),
        (-2_208_988_800, "1900-01-01T00:00:00Z"),
        // Leap days: every fourth year, not 1900 or 2100 (centuries), but 2000 (divisible by 400).
        (951_782_400, "2000-02-29T00:00:00Z"),
        (951_868_800, "2000-03-01T00:00:00Z"),
        (1_709_164_800, "2024-02-29T00:00:00Z"),
        (1_709_251_199, "2024-02-29T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),
        (-2_203_891_200, "1900-03-01T00:00:00Z"),
        (1_735_689_599, "2024-12-31T23:59:59Z"),
        // Past the 32-bit time_t overflow.
        (2_147_483_647, "2038-01-19T03:14:07Z"),
        (2_147_483_648, "2038-01-19T03:14:08Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (253_402_300_800, "10000-01-01T00:00:00Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
        (-62_167_219_200, "0000-01-01T00:00:00Z"),
        (-62_198_755_200, "-0001-01-01T00:00:00Z"),
    ])
    func formatsISO8601ToTheSecond(seconds: Int64, expected: String) {
        #expect(UTCDate(secondsSince1970: seconds).iso8601 == expected)
    }

    @Test(arguments: [
        (Int64(0), 0, "1970-01-01T00:00:00.000Z"),
        (1_767_323_045, 678_000_000, "2026-01-02T03:04:05.678Z"),
        // Truncated, never rounded into the next second.
        (1_767_323_045, 999_999_999, "2026-01-02T03:04:05.999Z"),
        (1_767_323_045, 1_999_999, "2026-01-02T03:04:05.001Z"),
        (-1, 500_000_000, "1969-12-31T23:59:59.500Z"),
    ])
    func formatsISO8601ToTheMillisecond(seconds: Int64, nanoseconds: Int, expected: String) {
        #expect(UTCDate(secondsSince1970: seconds, nanoseconds: nanoseconds).iso8601Milliseconds == expected)
    }

    @Test func fieldsOfAKnownDate() {
        let date = UTCDate(secondsSince1970: 784_111_777, nanoseconds: 123_456_789)
        #expect((date.year, date.month, date.day) == (1994, 11, 6))
        #expect((date.hour, date.minute, date.second, date.nanosecond) == (8, 49, 37, 123_456_789))
        #expect(date.weekday == 0)
    }

    @Test func nanosecondsOutsideASecondAreClamped() {
        #expect(UTCDate(secondsSince1970: 0, nanoseconds: -5).nanosecond == 0)
        #expect(UTCDate(secondsSince1970: 0, nanoseconds: 2_000_000_000).nanosecond == 999_999_999)
    }

    @Test func everyDayOfFourHundredYearsFollowsTheDayBefore() {
        // 146,097 days from 1970 (one full cycle of the calendar): each date is the day after the one before, and
        // the weekdays cycle.
        var previous = UTCDate(secondsSince1970: -86_400)
        for day in Int64(0)..<146_097 {
            let date = UTCDate(secondsSince1970: day * 86_400 + 43_200)
            let lengths = [31, Self.isLeap(previous.year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            let next: (Int64, Int, Int) = previous.day < lengths[previous.month - 1]
                ? (previous.year, previous.month, previous.day + 1)
                : previous.month < 12 ? (previous.year, previous.month + 1, 1) : (previous.year + 1, 1, 1)
            guard (date.year, date.month, date.day) == next, date.weekday == (previous.weekday + 1) % 7,
                  date.hour == 12 else {
                Issue.record("day \(day) after 1970: \(date), the day before: \(previous)")
                return
            }
            previous = date
        }
        #expect((previous.year, previous.month, previous.day) == (2369, 12, 31))
    }

    @Test func extremeTimesDoNotTrap() {
        #expect(UTCDate(secondsSince1970: .max).imfFixdate.hasSuffix("GMT"))
        #expect(UTCDate(secondsSince1970: .min).imfFixdate.hasSuffix("GMT"))
        #expect(UTCDate(secondsSince1970: .max).iso8601.hasSuffix("Z"))
        #expect(UTCDate(secondsSince1970: .min, nanoseconds: 999_999_999).iso8601Milliseconds.hasSuffix(".999Z"))
    }

    static func isLeap(_ year: Int64) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }
}
