import RelayIO
import RelayProtocol

/// The handles of one labeled metric family, one per combination of label values; the shared part of
/// `CounterFamily`, `GaugeFamily` and `HistogramFamily`.
///
/// Looking a handle up takes the lock, which is why callers look handles up once (when a listener or backend
/// is set up) and keep them; the hot path then touches only the handle's atomics.
final class LabeledSeries<Handle: AnyObject & Sendable>: Sendable {
    /// The family name.
    let name: String
    /// The label names, in the order values are given and written.
    let labelNames: [String]
    /// Makes the handle of a new label combination.
    private let makeHandle: @Sendable () -> Handle
    /// The handles by label values.
    private let handles = SanitizerVisibleMutex<[[String]: Handle]>([:])

    /// Checks the names once, at setup, so a bad name fails when the family is made rather than producing
    /// an exposition Prometheus refuses; `reserved` are label names the family type writes itself.
    init(name: String, labelNames: [String], reserved: Set<String> = [], makeHandle: @escaping @Sendable () -> Handle) {
        precondition(PrometheusName.isValidMetricName(name), "invalid metric name \(name)")
        for label in labelNames {
            precondition(PrometheusName.isValidLabelName(label) && !label.hasPrefix("__"),
                         "invalid label name \(label) for \(name)")
            precondition(!reserved.contains(label), "label name \(label) is reserved in \(name)")
        }
        precondition(Set(labelNames).count == labelNames.count, "repeated label name in \(name): \(labelNames)")
        self.name = name
        self.labelNames = labelNames
        self.makeHandle = makeHandle
    }

    /// The handle for `values` (one per label name), made on first use; the same object every time after.
    func handle(_ values: [String]) -> Handle {
        precondition(values.count == labelNames.count,
                     "\(name) has labels \(labelNames) but was given \(values.count) values: \(values)")
        return handles.withLock { handles in
            if let handle = handles[values] { return handle }
            let handle = makeHandle()
            handles[values] = handle
            return handle
        }
    }

    /// Forgets the handle for `values`, so its series leaves the output. A caller still holding it can keep
    /// updating it, unseen; asking for the same values again starts a new series from zero.
    func remove(_ values: [String]) {
        handles.withLock { _ = $0.removeValue(forKey: values) }
    }

    /// Every series as label pairs and handle, sorted by label values so the output is stable from scrape
    /// to scrape and across restarts.
    func series() -> [(labels: [(String, String)], handle: Handle)] {
        let entries = handles.withLock { handles in handles.map { (values: $0.key, handle: $0.value) } }
        return entries.sorted { $0.values.lexicographicallyPrecedes($1.values) }.map {
            (Array(zip(labelNames, $0.values)), $0.handle)
        }
    }
}
