import RelayProtocol
import Testing
@testable import TestSupport

/// The parser the metrics tests check relayd's output with: what it accepts and, line by line, what it refuses.
@Suite struct PrometheusExpositionTests {
    @Test func writerOutputParsesBackToTheSameFamiliesAndValues() throws {
        var writer = PrometheusWriter()
        writer.family("requests_total", type: .counter, help: "Requests with \\ and\nnewline.")
        writer.sample("requests_total", labels: [("path", "/a\"b\\c\nd")], value: UInt64(7))
        writer.sample("requests_total", labels: [("path", "/")], value: UInt64(3))
        writer.family("temperature", type: .gauge, help: "")
        writer.sample("temperature", value: -12.5)
        writer.family("latency_seconds", type: .histogram, help: "Latency.")
        for (bound, count) in [("0.5", UInt64(1)), ("1", 2), ("+Inf", 2)] {
            writer.sample("latency_seconds_bucket", labels: [("code", "200"), ("le", bound)], value: count)
        }
        writer.sample("latency_seconds_sum", labels: [("code", "200")], value: 1.25)
        writer.sample("latency_seconds_count", labels: [("code", "200")], value: UInt64(2))

        let exposition = try PrometheusExposition(parsing: writer.text)
        #expect(exposition.families.map(\.name) == ["requests_total", "temperature", "latency_seconds"])
        #expect(exposition.families.map(\.type) == [.counter, .gauge, .histogram])
        #expect(exposition.families[0].help == "Requests with \\ and\nnewline.")
        #expect(exposition.value("requests_total", ["path": "/a\"b\\c\nd"]) == 7)
        #expect(exposition.value("temperature") == -12.5)
        #expect(exposition.value("latency_seconds_bucket", ["code": "200", "le": "0.5"]) == 1)
        #expect(exposition.value("latency_seconds_sum", ["code": "200"]) == 1.25)
        #expect(exposition.family("latency_seconds")?.samples.count == 5)
    }

    @Test func valueNeedsExactLabels_sumAddsEverySampleWithTheGivenLabels() throws {
        let exposition = try PrometheusExposition(parsing: """
            # HELP bytes_total Bytes.
            # TYPE bytes_total counter
            bytes_total{listener="web",direction="in"} 10
            bytes_total{listener="web",direction="out"} 20
            bytes_total{listener="dns",direction="in"} 5

            """)
        #expect(exposition.value("bytes_total", ["listener": "web"]) == nil)
        #expect(exposition.value("bytes_total", ["listener": "web", "direction": "out"]) == 20)
        #expect(exposition.sum("bytes_total") == 35)
        #expect(exposition.sum("bytes_total", where: ["listener": "web"]) == 30)
        #expect(exposition.sum("bytes_total", where: ["direction": "in"]) == 15)
        #expect(exposition.sum("missing_total") == 0)
    }

    @Test func acceptsWhatTheFormatAllows_commentsBlankLinesTimestampsTrailingCommasAndSpecialValues() throws {
        let exposition = try PrometheusExposition(parsing: """
            # A free comment.

            # HELP a Only help, so untyped.
            a{x="1",} 1 1700000000000
            b\t2
            c{ x = "1" , y="2" }   NaN
            d +Inf
            e -inf
            f 1.5e3
            g .5

            """)
        #expect(exposition.families.map(\.name) == ["a", "b", "c", "d", "e", "f", "g"])
        #expect(exposition.families.allSatisfy { $0.type == .untyped })
        #expect(exposition.value("a", ["x": "1"]) == 1)
        #expect(exposition.value("c", ["x": "1", "y": "2"])?.isNaN == true)
        #expect(exposition.value("d") == .infinity)
        #expect(exposition.value("e") == -.infinity)
        #expect(exposition.value("f") == 1500)
        #expect(exposition.value("g") == 0.5)
    }

    @Test func emptyTextIsAnEmptyExposition() throws {
        #expect(try PrometheusExposition(parsing: "").families.isEmpty)
    }

    /// One kind of invalid exposition, the line it must be reported on and words the reason must contain.
    struct Violation: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var line: Int
        var reason: String
        var testDescription: String { name }
    }

    static let histogramHeader = "# HELP h Latency.\n# TYPE h histogram\n"

    static let violations: [Violation] = [
        Violation(name: "metric name starting with a digit", text: "ok 1\n1abc 1\n", line: 2,
                  reason: "invalid metric name"),
        Violation(name: "metric name with a dash", text: "a-b 1\n", line: 1, reason: "expected a blank or {"),
        Violation(name: "label name with a colon", text: "a{b:c=\"1\"} 1\n", line: 1, reason: "expected ="),
        Violation(name: "label name starting with a digit", text: "a{1b=\"1\"} 1\n", line: 1,
                  reason: "invalid label name"),
        Violation(name: "unknown escape in a label value", text: "a 1\na{b=\"x\\ty\"} 1\n", line: 2,
                  reason: "invalid escape \\t"),
        Violation(name: "unterminated label value", text: "a{b=\"x} 1\n", line: 1, reason: "unterminated"),
        Violation(name: "unquoted label value", text: "a{b=x} 1\n", line: 1, reason: "quoted value"),
        Violation(name: "label given twice", text: "a{b=\"1\",b=\"2\"} 1\n", line: 1, reason: "appears twice"),
        Violation(name: "quote escape in help text", text: "# HELP a say \\\"hi\\\"\na 1\n", line: 1,
                  reason: "invalid escape \\\""),
        Violation(name: "second HELP", text: "# HELP a x\n# HELP a y\na 1\n", line: 2, reason: "second # HELP"),
        Violation(name: "second TYPE", text: "# TYPE a gauge\n# TYPE a gauge\na 1\n", line: 2,
                  reason: "second # TYPE"),
        Violation(name: "HELP after samples", text: "a 1\n# HELP a x\n", line: 2, reason: "after its samples"),
        Violation(name: "TYPE after samples", text: "# HELP a x\na 1\n# TYPE a gauge\n", line: 3,
                  reason: "after its samples"),
        Violation(name: "TYPE histogram after its bucket samples", text: "h_bucket{le=\"+Inf\"} 1\n# TYPE h histogram\n",
                  line: 2, reason: "after samples of h_bucket"),
        Violation(name: "interleaved families", text: "a{x=\"1\"} 1\nb 2\na{x=\"2\"} 3\n", line: 3,
                  reason: "not together"),
        Violation(name: "header of a family that was left", text: "# HELP a x\n# HELP b y\n# TYPE a gauge\n",
                  line: 3, reason: "not together"),
        Violation(name: "counter not ending in _total", text: "# TYPE requests counter\nrequests 1\n", line: 1,
                  reason: "ending in _total"),
        Violation(name: "summary", text: "# TYPE rpc summary\n", line: 1, reason: "summary"),
        Violation(name: "unknown type", text: "# TYPE a meter\n", line: 1, reason: "unknown type meter"),
        Violation(name: "duplicate sample", text: "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", line: 2,
                  reason: "duplicate sample a{x=\"1\",y=\"2\"}"),
        Violation(name: "value that is not a number", text: "a 1.2.3\n", line: 1, reason: "not a number"),
        Violation(name: "hexadecimal value", text: "a 0x10\n", line: 1, reason: "not a number"),
        Violation(name: "value with an underscore", text: "a 1_000\n", line: 1, reason: "not a number"),
        Violation(name: "signed NaN", text: "a +NaN\n", line: 1, reason: "not a number"),
        Violation(name: "missing value", text: "a{b=\"1\"}\n", line: 1, reason: "no value"),
        Violation(name: "timestamp that is not an integer", text: "a 1 1.5\n", line: 1, reason: "timestamp"),
        Violation(name: "no final line feed", text: "a 1\nb 2", line: 2, reason: "line feed"),
        Violation(name: "histogram sample without a suffix", text: histogramHeader + "h 1\n", line: 3,
                  reason: "expected h_bucket, _sum or _count"),
        Violation(name: "bucket without le", text: histogramHeader + "h_bucket 1\n", line: 3, reason: "no le label"),
        Violation(name: "le that is not a number", text: histogramHeader + "h_bucket{le=\"fast\"} 1\n", line: 3,
                  reason: "not a number"),
        Violation(name: "le not increasing",
                  text: histogramHeader + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"0.5\"} 1\n", line: 4,
                  reason: "le must increase"),
        Violation(name: "le repeated",
                  text: histogramHeader + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\n", line: 4,
                  reason: "le must increase"),
        Violation(name: "bucket counts decreasing",
                  text: histogramHeader + "h_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\n", line: 4,
                  reason: "cumulative"),
        Violation(name: "bucket after +Inf",
                  text: histogramHeader + "h_bucket{le=\"+Inf\"} 5\nh_bucket{le=\"2\"} 5\n", line: 4,
                  reason: "after its +Inf bucket"),
        Violation(name: "+Inf bucket differing from _count",
                  text: histogramHeader + "h_bucket{le=\"+Inf\"} 5\nh_sum 1\nh_count 4\n", line: 5,
                  reason: "_count of h is 4 but its +Inf bucket counts 5"),
        Violation(name: "_count before a differing +Inf bucket",
                  text: histogramHeader + "h_count{a=\"x\"} 4\nh_bucket{a=\"x\",le=\"+Inf\"} 5\nh_sum{a=\"x\"} 1\n",
                  line: 4, reason: "counts 5 but its _count is 4"),
        Violation(name: "histogram without a +Inf bucket",
                  text: histogramHeader + "h_bucket{le=\"1\"} 5\nh_sum 1\nh_count 5\n# HELP next x\n", line: 5,
                  reason: "no bucket with le=\"+Inf\""),
        Violation(name: "histogram without _count",
                  text: histogramHeader + "h_bucket{le=\"+Inf\"} 5\nh_sum 1\n", line: 4, reason: "no h_count"),
        Violation(name: "one series of a histogram without _sum",
                  text: histogramHeader + "h_bucket{a=\"1\",le=\"+Inf\"} 1\nh_sum{a=\"1\"} 1\nh_count{a=\"1\"} 1\n"
                      + "h_bucket{a=\"2\",le=\"+Inf\"} 1\nh_count{a=\"2\"} 1\n", line: 7,
                  reason: "h{a=\"2\"} has no h_sum"),
        Violation(name: "le on _sum", text: histogramHeader + "h_sum{le=\"1\"} 1\n", line: 3,
                  reason: "only buckets have"),
    ]

    @Test(arguments: violations)
    func rejectsViolationOnItsLine(_ violation: Violation) {
        do {
            _ = try PrometheusExposition(parsing: violation.text)
            Issue.record("accepted: \(violation.text)")
        } catch {
            #expect(error.line == violation.line, "\(error)")
            #expect(error.reason.contains(violation.reason), "\(error)")
        }
    }

    /// Every number the writer formats reads back as the same double.
    @Test(arguments: [0.0, 1.0, -1.0, 0.1, 1e-7, 123.456, 1.0 / 3.0, 9_007_199_254_740_992.0, 1e300, .leastNonzeroMagnitude])
    func formattedValuesReadBackAsTheSameDouble(value: Double) throws {
        let text = PrometheusWriter.format(value)
        let parsed = try #require(PrometheusLineScanner.parseFloat(text.utf8))
        #expect(parsed == value)
    }
}
