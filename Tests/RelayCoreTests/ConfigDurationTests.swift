import Testing
@testable import RelayCore

@Suite struct ConfigDurationTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)),
        ("15s", .seconds(15)),
        ("1m", .seconds(60)),
        ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)),
        ("100us", .microseconds(100)),
        ("100µs", .microseconds(100)),
        ("10ns", .nanoseconds(10)),
        ("1m30s", .seconds(90)),
        ("1h2m3s4ms5us6ns", .nanoseconds(3_723_004_005_006)),
        ("0s", .zero),
        ("0.001s", .milliseconds(1)),
        ("2.25h", .seconds(8100)),
        ("1.0000000019s", .nanoseconds(1_000_000_001)),
    ])
    func parsesDurationsWithUnits(text: String, expected: Duration) {
        #expect(DurationParser.parse(text) == expected)
    }

    @Test(arguments: [
        "", "30", "1.5", "-1s", "+1s", "s", "1", "1m30", "1.s", ".5s", "1 s", " 1s", "1s ", "1sec", "1S",
        "1d", "30s1m", "1s1s", "1m1h", "1..5s", "9223372036854775807s", "99999999999999999999ns",
    ])
    func rejectsAnythingElse(text: String) {
        #expect(DurationParser.parse(text) == nil)
    }

    @Test(arguments: [
        (Duration.zero, "0s"),
        (.milliseconds(250), "250ms"),
        (.microseconds(100), "100us"),
        (.nanoseconds(10), "10ns"),
        (.seconds(15), "15s"),
        (.seconds(90), "1m30s"),
        (.seconds(3600), "1h"),
        (.seconds(3605), "1h5s"),
        (.milliseconds(1500), "1.5s"),
        (.milliseconds(90_500), "1m30.5s"),
        (.nanoseconds(1_000_000_001), "1.000000001s"),
        (.milliseconds(-250), "-250ms"),
        (.seconds(-90), "-1m30s"),
    ])
    func formatsWithTheFewestParts(duration: Duration, text: String) {
        #expect(DurationParser.format(duration) == text)
    }

    @Test func formattedDurationsParseBack() {
        let samples: [Duration] = [.nanoseconds(1), .nanoseconds(1_500), .milliseconds(999), .seconds(59),
                                   .seconds(61), .milliseconds(3_600_001), .seconds(86_400 * 400)]
        for duration in samples {
            #expect(DurationParser.parse(DurationParser.format(duration)) == duration, "\(duration)")
        }
    }
}
