import Testing
@testable import RelayProtocol

@Suite struct PrometheusWriterTests {
    @Test func counterFamilyIsWrittenExactly() {
        var writer = PrometheusWriter()
        writer.family("relayd_connections_total", type: .counter, help: "Connections accepted.")
        writer.sample("relayd_connections_total", value: UInt64(42))
        #expect(writer.text == """
            # HELP relayd_connections_total Connections accepted.
            # TYPE relayd_connections_total counter
            relayd_connections_total 42

            """)
    }

    @Test func gaugeSamplesWithLabelsAreWrittenInTheGivenOrder() {
        var writer = PrometheusWriter()
        writer.family("relayd_active_connections", type: .gauge, help: "Open connections.")
        writer.sample("relayd_active_connections", labels: [("listener", "web"), ("backend", "b1")], value: 3.0)
        writer.sample("relayd_active_connections", labels: [("listener", "web"), ("backend", "b2")], value: -1.5)
        #expect(writer.text == """
            # HELP relayd_active_connections Open connections.
            # TYPE relayd_active_connections gauge
            relayd_active_connections{listener="web",backend="b1"} 3
            relayd_active_connections{listener="web",backend="b2"} -1.5

            """)
    }

    @Test func labelValuesEscapeBackslashQuoteAndLineFeed_helpEscapesBackslashAndLineFeedOnly() {
        var writer = PrometheusWriter()
        writer.family("odd", type: .untyped, help: "Path C:\\tmp, \"quoted\"\nsecond line")
        writer.sample("odd", labels: [("path", "C:\\tmp"), ("quote", "say \"hi\""), ("text", "a\nb")], value: 1.0)
        #expect(writer.text == #"""
            # HELP odd Path C:\\tmp, "quoted"\nsecond line
            # TYPE odd untyped
            odd{path="C:\\tmp",quote="say \"hi\"",text="a\nb"} 1

            """#)
    }

    @Test func histogramIsWrittenExactly() {
        var writer = PrometheusWriter()
        writer.family("relayd_connect_seconds", type: .histogram, help: "Time to connect.")
        writer.sample("relayd_connect_seconds_bucket", labels: [("le", "0.1")], value: UInt64(1))
        writer.sample("relayd_connect_seconds_bucket", labels: [("le", "1")], value: UInt64(3))
        writer.sample("relayd_connect_seconds_bucket", labels: [("le", "+Inf")], value: UInt64(4))
        writer.sample("relayd_connect_seconds_sum", value: 7.25)
        writer.sample("relayd_connect_seconds_count", value: UInt64(4))
        #expect(writer.text == """
            # HELP relayd_connect_seconds Time to connect.
            # TYPE relayd_connect_seconds histogram
            relayd_connect_seconds_bucket{le="0.1"} 1
            relayd_connect_seconds_bucket{le="1"} 3
            relayd_connect_seconds_bucket{le="+Inf"} 4
            relayd_connect_seconds_sum 7.25
            relayd_connect_seconds_count 4

            """)
    }

    @Test(arguments: [
        (0.0, "0"), (-0.0, "0"), (3.0, "3"), (-2.0, "-2"), (0.5, "0.5"), (0.1, "0.1"), (1e-7, "1e-07"),
        (1.0 / 3.0, "0.3333333333333333"), (9_007_199_254_740_991.0, "9007199254740991"),
        (9_007_199_254_740_992.0, "9007199254740992.0"), (1e16, "1e+16"), (1e300, "1e+300"),
        (Double.infinity, "+Inf"), (-Double.infinity, "-Inf"), (Double.nan, "NaN"),
    ])
    func formatWritesIntegersPlainAndEverythingElseAsShortestRoundTrip(value: Double, text: String) {
        #expect(PrometheusWriter.format(value) == text)
    }

    @Test func integerSamplesKeepEveryDigitOfLargeCounters() {
        var writer = PrometheusWriter()
        writer.sample("bytes_total", value: UInt64.max)
        #expect(writer.text == "bytes_total 18446744073709551615\n")
    }
}
