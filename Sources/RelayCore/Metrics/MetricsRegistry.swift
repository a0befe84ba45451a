import RelayProtocol

/// The collectors whose families make up `/metrics`, by key, and the rendering of a scrape.
///
/// The registry only registers and renders; it is never on a hot path. Keys name what a collector belongs
/// to (`process`, `build`, `relayd`): registering under a key again replaces the collector, and keys fix the
/// order in which families of the same name are merged. The server registers its collectors once; they read
/// what runs at scrape time, so a reload that removes a listener removes its series without unregistering.
///
/// A scrape asks all collectors at once and puts their families together in key order. Families of the same
/// name from several collectors are merged into one, samples concatenated in key order; the first
/// collector's help text wins. When they disagree on the type, the family of the first collector (in key
/// order) is kept and the others' samples are dropped, because one family cannot be written with two types
/// and a partial scrape beats one Prometheus refuses entirely. Collectors must not return the same sample
/// (name and labels) twice between them: the registry does not look for duplicates.
public actor MetricsRegistry {
    /// The registered collectors by key.
    private var collectors: [String: any MetricsCollector] = [:]

    public init() {}

    /// Registers `collector` under `key`, replacing whatever was registered under it.
    public func register(_ collector: any MetricsCollector, key: String) {
        collectors[key] = collector
    }

    /// Every family of every collector, merged by name (see the type's notes) and sorted by name; samples
    /// keep the order of their collectors' keys, then each collector's own order.
    public func snapshot() async -> [MetricFamilySnapshot] {
        let ordered = collectors.sorted { $0.key < $1.key }.map(\.value)
        let results = await withTaskGroup(of: (Int, [MetricFamilySnapshot]).self) { group in
            for (position, collector) in ordered.enumerated() {
                group.addTask { (position, await collector.collect()) }
            }
            var results = [[MetricFamilySnapshot]](repeating: [], count: ordered.count)
            for await (position, families) in group { results[position] = families }
            return results
        }
        var merged: [MetricFamilySnapshot] = []
        var positions: [String: Int] = [:]
        for family in results.joined() {
            if let position = positions[family.name] {
                if merged[position].type == family.type { merged[position].samples += family.samples }
            } else {
                positions[family.name] = merged.count
                merged.append(family)
            }
        }
        return merged.sorted { $0.name < $1.name }
    }

    /// The Prometheus text of `snapshot()`; a family without samples is still written, with its HELP and TYPE,
    /// so a dashboard can tell "nothing yet" from "not exported".
    public func render() async -> String {
        var writer = PrometheusWriter()
        for family in await snapshot() {
            writer.family(family.name, type: family.type, help: family.help)
            for sample in family.samples {
                writer.sample(family.name + sample.suffix, labels: sample.labels, value: sample.value)
            }
        }
        return writer.text
    }
}
