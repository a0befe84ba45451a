/// One sample of a family snapshot: its labels, its value, and for histograms which part it is.
public struct MetricSample: Sendable {
    /// Label names and values in the order they are written.
    public var labels: [(String, String)]
    /// The value.
    public var value: Double
    /// Appended to the family name to make the sample name: empty, or `_bucket`, `_sum` or `_count` for the
    /// parts of a histogram.
    public var suffix: String

    public init(labels: [(String, String)] = [], value: Double, suffix: String = "") {
        self.labels = labels
        self.value = value
        self.suffix = suffix
    }

    /// A sample from a label literal that keeps its order: `MetricSample(["listener": "web"], value: 3)`.
    public init(_ labels: KeyValuePairs<String, String>, value: Double) {
        self.init(labels: labels.map { ($0.key, $0.value) }, value: value)
    }
}
