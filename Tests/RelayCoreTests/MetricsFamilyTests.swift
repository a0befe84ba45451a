import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

@Suite struct MetricsFamilyTests {
    @Test func sameLabelValuesGiveTheSameHandle() {
        let family = CounterFamily("relayd_bytes_total", help: "Bytes.", labels: ["listener", "direction"])
        let first = family.labels("web", "in")
        #expect(family.labels("web", "in") === first)
        #expect(family.labels(["web", "in"]) === first)
        #expect(family.labels("web", "out") !== first)

        let gauges = GaugeFamily("relayd_connections_active", help: "Open.", labels: ["listener"])
        #expect(gauges.labels("web") === gauges.labels(["web"]))
        let histograms = HistogramFamily("relayd_connect_seconds", help: "Connect.", labels: ["backend"],
                                         buckets: [0.1, 1])
        #expect(histograms.labels("b") === histograms.labels(["b"]))
    }

    @Test func seriesAreWrittenSortedByLabelValues() {
        let family = GaugeFamily("relayd_connections_active", help: "Open.", labels: ["listener"])
        family.labels("web").set(2)
        family.labels("dns").set(1)
        family.labels("api").set(3)
        let snapshot = family.snapshot()
        #expect(snapshot.type == .gauge)
        #expect(snapshot.samples.map { $0.labels.map(\.1) } == [["api"], ["dns"], ["web"]])
        #expect(snapshot.samples.map(\.value) == [3, 1, 2])
    }

    @Test func removeDropsTheSeriesFromTheOutput_andASeriesAskedForAgainStartsFromZero() async throws {
        let family = CounterFamily("relayd_bytes_total", help: "Bytes.", labels: ["listener"])
        let web = family.labels("web")
        web.increment(by: 5)
        family.labels("dns").increment(by: 7)
        family.remove("web")

        let registry = MetricsRegistry()
        await registry.register(family, key: "bytes")
        let exposition = try PrometheusExposition(parsing: await registry.render())
        #expect(exposition.value("relayd_bytes_total", ["listener": "web"]) == nil)
        #expect(exposition.value("relayd_bytes_total", ["listener": "dns"]) == 7)

        web.increment()
        #expect(family.snapshot().samples.count == 1)
        #expect(family.labels("web") !== web)
        #expect(family.labels("web").value == 0)
        family.remove(["web"])
        #expect(family.snapshot().samples.count == 1)
    }

    @Test func histogramFamilyWritesBucketsSumAndCountPerSeries() {
        let family = HistogramFamily("relayd_connect_seconds", help: "Connect.", labels: ["backend"],
                                     buckets: [0.1, 1])
        family.labels("b").observe(0.05)
        family.labels("b").observe(2)
        let samples = family.snapshot().samples
        #expect(samples.map(\.suffix) == ["_bucket", "_bucket", "_bucket", "_sum", "_count"])
        #expect(samples.map { $0.labels.map { "\($0.0)=\($0.1)" } } == [
            ["backend=b", "le=0.1"], ["backend=b", "le=1"], ["backend=b", "le=+Inf"], ["backend=b"], ["backend=b"],
        ])
        #expect(samples.map(\.value) == [1, 1, 2, 2.05, 2])
    }

    @Test func familyWithoutLabelsHasOneSeries() {
        let family = CounterFamily("relayd_reloads_total", help: "Reloads.", labels: [])
        family.labels().increment()
        family.labels().increment()
        let samples = family.snapshot().samples
        #expect(samples.count == 1)
        #expect(samples.first?.labels.isEmpty == true)
        #expect(samples.first?.value == 2)
    }
}
