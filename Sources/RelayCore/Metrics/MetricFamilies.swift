/// Builds the families of one scrape; labels are written in the order given (dictionary literals of one or two
/// keys are ordered here by key, so output is stable).
struct MetricFamilies {
    var families: [MetricFamilySnapshot] = []

    mutating func counter(_ name: String, _ help: String, _ samples: [([String: String], Double)]) {
        families.append(MetricFamilySnapshot(name: name, type: .counter, help: help, samples: samples.map(Self.sample)))
    }

    mutating func gauge(_ name: String, _ help: String, _ samples: [([String: String], Double)]) {
        families.append(MetricFamilySnapshot(name: name, type: .gauge, help: help, samples: samples.map(Self.sample)))
    }

    private static func sample(_ entry: ([String: String], Double)) -> MetricSample {
        MetricSample(labels: entry.0.sorted { Self.rank($0.key) < Self.rank($1.key) }.map { ($0.key, $0.value) },
                     value: entry.1)
    }

    /// Label order: the broader label first (listener/backend), then server, then the rest alphabetically.
    private static func rank(_ key: String) -> String {
        switch key {
        case "listener", "backend", "service": "0"
        case "server": "1"
        default: "2" + key
        }
    }
}
