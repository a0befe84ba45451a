import RelayProtocol

/// A parsed and validated text exposition (format 0.0.4).
///
/// Tests use it to read values back from rendered output and to check the format without `promtool`. Parsing is
/// stricter than Prometheus in two ways that match how relayd writes metrics: counters must be named `..._total`
/// (promtool's lint rule), and summaries are refused (relayd writes none).
public struct PrometheusExposition: Sendable {
    /// One sample line.
    public struct Sample: Sendable, Equatable {
        /// The sample's name, with any histogram suffix (`_bucket`, `_sum`, `_count`).
        public var name: String
        /// The labels, unescaped; for buckets this includes `le`.
        public var labels: [String: String]
        /// The value (a timestamp after it, allowed by the format, is dropped).
        public var value: Double

        public init(name: String, labels: [String: String] = [:], value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }
    }

    /// A metric family: its header and its samples, in text order.
    public struct Family: Sendable {
        /// The family name (for histograms, without the sample suffixes).
        public var name: String
        /// The declared type; `untyped` when there is no `# TYPE` line.
        public var type: PrometheusMetricType
        /// The unescaped help text; empty when there is no `# HELP` line.
        public var help: String
        /// The family's samples in text order.
        public var samples: [Sample]

        public init(name: String, type: PrometheusMetricType, help: String, samples: [Sample]) {
            self.name = name
            self.type = type
            self.help = help
            self.samples = samples
        }
    }

    /// The families in text order.
    public var families: [Family]

    /// Parses `text`, or throws the first problem found with its line.
    ///
    /// Checks: metric and label name grammar; escapes in help text and label values; at most one `HELP` and
    /// one `TYPE` per family, both before its samples; each family's lines together; no sample twice (same
    /// name and labels); values that Prometheus reads as floats; counters named `..._total`; for histograms,
    /// only `_bucket` (with `le`), `_sum` and `_count` samples, and for each label set `le` increasing,
    /// cumulative counts not decreasing, a `+Inf` bucket equal to `_count`, and a `_sum`; a final line feed.
    public init(parsing text: String) throws(PrometheusFormatError) {
        var parser = PrometheusExpositionParser()
        families = try parser.parse(text)
    }

    /// The family called `name`, if any.
    public func family(_ name: String) -> Family? {
        families.first { $0.name == name }
    }

    /// The value of the sample named `name` whose labels are exactly `labels`.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        for family in families {
            if let sample = family.samples.first(where: { $0.name == name && $0.labels == labels }) {
                return sample.value
            }
        }
        return nil
    }

    /// The sum of the samples named `name` whose labels include all of `labels` (0 when none match).
    public func sum(_ name: String, where labels: [String: String] = [:]) -> Double {
        var total = 0.0
        for family in families {
            for sample in family.samples where sample.name == name {
                if labels.allSatisfy({ sample.labels[$0.key] == $0.value }) { total += sample.value }
            }
        }
        return total
    }
}
