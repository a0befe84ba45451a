import RelayProtocol

/// The checks across lines behind `PrometheusExposition(parsing:)`: which family each line belongs to, the
/// order of headers and samples, duplicates, and the shape of histograms.
struct PrometheusExpositionParser {
    /// A family as it is being read.
    private struct FamilyState {
        /// The family name.
        var name: String
        /// The declared type, `untyped` until a `# TYPE` line says otherwise.
        var type = PrometheusMetricType.untyped
        /// Whether a `# TYPE` line was read, so a second one is refused.
        var typed = false
        /// The help text, once a `# HELP` line was read.
        var help: String?
        /// The samples read so far.
        var samples: [PrometheusExposition.Sample] = []
    }

    /// What has been seen of one histogram series (one label set without `le`) of the current family.
    private struct HistogramSeries {
        /// The `le` of the last bucket, to check that buckets ascend.
        var lastBound: Double?
        /// The count of the last bucket, to check that counts are cumulative.
        var lastCount = 0.0
        /// The `+Inf` bucket's count and line, once read.
        var infinity: (count: Double, line: Int)?
        /// The `_count` value and line, once read.
        var count: (value: Double, line: Int)?
        /// Whether `_sum` was read.
        var hasSum = false
        /// The last line of the series, where a missing part is reported.
        var lastLine: Int
    }

    /// A sample's identity, for finding duplicates.
    private struct SeriesKey: Hashable {
        var name: String
        var labels: [String: String]
    }

    /// The families in text order.
    private var families: [FamilyState] = []
    /// Index in `families` by family name.
    private var familyIndex: [String: Int] = [:]
    /// The family of the previous header or sample.
    private var current: Int?
    /// Families that another family's lines have followed: any further line of theirs is out of place.
    private var left: Set<Int> = []
    /// Every sample read so far.
    private var seen: Set<SeriesKey> = []
    /// Names of the samples read so far, to refuse a header that comes after samples it would claim.
    private var sampleNames: Set<String> = []
    /// The current family's histogram series, in the order they first appeared.
    private var histogramSeries: [(labels: [String: String], state: HistogramSeries)] = []
    /// Index in `histogramSeries` by label set (without `le`).
    private var histogramSeriesIndex: [[String: String]: Int] = [:]

    /// The families of `text`, or its first problem.
    mutating func parse(_ text: String) throws(PrometheusFormatError) -> [PrometheusExposition.Family] {
        var lines = Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let endsWithLineFeed = text.utf8.last == UInt8(ascii: "\n")
        // After a final line feed, `split` yields one empty piece that is not a line.
        if endsWithLineFeed || text.isEmpty { lines.removeLast() }
        for (offset, bytes) in lines.enumerated() {
            var scanner = PrometheusLineScanner(bytes, line: offset + 1)
            try read(scanner.scan(), line: offset + 1)
        }
        try closeCurrentFamily()
        if !endsWithLineFeed && !text.isEmpty {
            throw PrometheusFormatError(line: lines.count, reason: "the text does not end with a line feed")
        }
        return families.map {
            PrometheusExposition.Family(name: $0.name, type: $0.type, help: $0.help ?? "", samples: $0.samples)
        }
    }

    private mutating func read(_ parsed: PrometheusLine, line: Int) throws(PrometheusFormatError) {
        switch parsed {
        case .ignored:
            return
        case .help(let name, let text):
            let index = try enterForHeader(name, keyword: "HELP", line: line)
            guard families[index].help == nil else { throw failure(line, "second # HELP for \(name)") }
            families[index].help = text
        case .type(let name, let text):
            guard let type = PrometheusMetricType(rawValue: text) else {
                let reason = text == "summary"
                    ? "\(name) is a summary, which this parser does not support"
                    : "unknown type \(text) for \(name): expected counter, gauge, histogram or untyped"
                throw failure(line, reason)
            }
            let index = try enterForHeader(name, keyword: "TYPE", line: line)
            guard !families[index].typed else { throw failure(line, "second # TYPE for \(name)") }
            if type == .counter, !name.hasSuffix("_total") {
                throw failure(line, "counter \(name) should have a name ending in _total")
            }
            if type == .histogram {
                for suffix in ["_bucket", "_sum", "_count"] where sampleNames.contains(name + suffix) {
                    throw failure(line, "# TYPE \(name) histogram comes after samples of \(name + suffix)")
                }
            }
            families[index].type = type
            families[index].typed = true
        case .sample(let name, let labels, let value):
            let index = family(ofSample: name)
            try enter(index, line: line)
            guard seen.insert(SeriesKey(name: name, labels: labels)).inserted else {
                throw failure(line, "duplicate sample \(name)\(Self.describe(labels))")
            }
            if families[index].type == .histogram {
                try readHistogramSample(name, labels: labels, value: value, family: families[index].name, line: line)
            }
            sampleNames.insert(name)
            families[index].samples.append(PrometheusExposition.Sample(name: name, labels: labels, value: value))
        }
    }

    /// The family a header names, made current; refused once the family has samples.
    private mutating func enterForHeader(_ name: String, keyword: String, line: Int) throws(PrometheusFormatError)
        -> Int
    {
        let index = familyIndex[name] ?? addFamily(name)
        guard families[index].samples.isEmpty else {
            throw failure(line, "# \(keyword) for \(name) comes after its samples")
        }
        try enter(index, line: line)
        return index
    }

    /// The family a sample belongs to: the family of that exact name, or a histogram it is a part of, or
    /// else a new untyped family.
    private mutating func family(ofSample name: String) -> Int {
        if let index = familyIndex[name] { return index }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            if let index = familyIndex[String(name.dropLast(suffix.count))], families[index].type == .histogram {
                return index
            }
        }
        return addFamily(name)
    }

    private mutating func addFamily(_ name: String) -> Int {
        families.append(FamilyState(name: name))
        familyIndex[name] = families.count - 1
        return families.count - 1
    }

    /// Makes `index` the current family, closing the previous one; refused if the family was left before.
    private mutating func enter(_ index: Int, line: Int) throws(PrometheusFormatError) {
        guard current != index else { return }
        guard !left.contains(index) else {
            let name = families[index].name
            throw failure(line, "lines of \(name) are not together: other families come between them")
        }
        try closeCurrentFamily()
        current = index
    }

    /// Finishes the current family: every histogram series needs a `+Inf` bucket, a `_count` and a `_sum`.
    private mutating func closeCurrentFamily() throws(PrometheusFormatError) {
        guard let index = current else { return }
        let name = families[index].name
        for (labels, series) in histogramSeries {
            let described = Self.describe(labels)
            guard series.infinity != nil else {
                throw failure(series.lastLine, "histogram \(name)\(described) has no bucket with le=\"+Inf\"")
            }
            guard series.count != nil else {
                throw failure(series.lastLine, "histogram \(name)\(described) has no \(name)_count")
            }
            guard series.hasSum else {
                throw failure(series.lastLine, "histogram \(name)\(described) has no \(name)_sum")
            }
        }
        histogramSeries = []
        histogramSeriesIndex = [:]
        left.insert(index)
        current = nil
    }

    private mutating func readHistogramSample(_ name: String, labels: [String: String], value: Double, family: String,
                                              line: Int) throws(PrometheusFormatError)
    {
        let suffix = name.dropFirst(family.count)
        guard suffix == "_bucket" || suffix == "_sum" || suffix == "_count" else {
            throw failure(line, "histogram \(family) has a sample \(name): expected \(family)_bucket, _sum or _count")
        }
        let text = PrometheusWriter.format
        var seriesLabels = labels
        let bound = seriesLabels.removeValue(forKey: "le")
        let series = "\(family)\(Self.describe(seriesLabels))"
        let position: Int
        if let known = histogramSeriesIndex[seriesLabels] {
            position = known
        } else {
            position = histogramSeries.count
            histogramSeries.append((seriesLabels, HistogramSeries(lastLine: line)))
            histogramSeriesIndex[seriesLabels] = position
        }
        var state = histogramSeries[position].state
        state.lastLine = line
        switch suffix {
        case "_bucket":
            guard let bound else { throw failure(line, "bucket of \(series) has no le label") }
            guard let upper = PrometheusLineScanner.parseFloat(bound.utf8), !upper.isNaN else {
                throw failure(line, "bucket of \(series) has le=\"\(bound)\", not a number")
            }
            let bucket = "bucket le=\"\(bound)\" of \(series)"
            guard value >= 0 else { throw failure(line, "\(bucket) counts \(text(value))") }
            guard state.infinity == nil else { throw failure(line, "\(bucket) comes after its +Inf bucket") }
            if let last = state.lastBound, upper <= last {
                throw failure(line, "\(bucket) comes after le=\"\(text(last))\": le must increase")
            }
            guard value >= state.lastCount else {
                throw failure(line, "\(bucket) counts \(text(value)), fewer than the \(text(state.lastCount)) of the "
                                  + "bucket before: bucket counts are cumulative")
            }
            state.lastBound = upper
            state.lastCount = value
            if upper == .infinity {
                state.infinity = (value, line)
                if let count = state.count, count.value != value {
                    throw failure(line, "\(bucket) counts \(text(value)) but its _count is \(text(count.value))")
                }
            }
        case "_sum":
            guard bound == nil else { throw failure(line, "\(name) has an le label, which only buckets have") }
            state.hasSum = true
        default:
            guard bound == nil else { throw failure(line, "\(name) has an le label, which only buckets have") }
            guard value >= 0 else { throw failure(line, "_count of \(series) is \(text(value))") }
            state.count = (value, line)
            if let infinity = state.infinity, infinity.count != value {
                throw failure(line, "_count of \(series) is \(text(value)) but its +Inf bucket counts "
                                  + "\(text(infinity.count))")
            }
        }
        histogramSeries[position].state = state
    }

    /// `{a="b",c="d"}` with labels sorted by name, or nothing for no labels: how messages show a series.
    static func describe(_ labels: [String: String]) -> String {
        guard !labels.isEmpty else { return "" }
        let pairs = labels.sorted { $0.key < $1.key }.map {
            "\($0.key)=\"\(escapeForMessage($0.value))\""
        }
        return "{" + pairs.joined(separator: ",") + "}"
    }

    /// A label value with `\`, `"` and line feeds escaped as the format writes them (done here, not by the
    /// writer under test).
    private static func escapeForMessage(_ value: String) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    private func failure(_ line: Int, _ reason: String) -> PrometheusFormatError {
        PrometheusFormatError(line: line, reason: reason)
    }
}
