/// `relayd_build_info{version="…",swift="…"} 1`: which build is running, for dashboards and for joining
/// onto other series (`* on(instance) group_left(version) relayd_build_info`).
public struct BuildInfoCollector: MetricsCollector {
    /// The relayd version.
    public let version: String

    /// The major and minor version of the Swift compiler that built relayd, found at compile time. Versions
    /// past the newest checked here read as that one with a `+`.
    public static let swiftVersion: String = {
        #if compiler(>=6.5)
        return "6.5+"
        #elseif compiler(>=6.4)
        return "6.4"
        #elseif compiler(>=6.3)
        return "6.3"
        #elseif compiler(>=6.2)
        return "6.2"
        #elseif compiler(>=6.1)
        return "6.1"
        #else
        return "6.0"
        #endif
    }()

    public init(version: String) {
        self.version = version
    }

    /// The one build info sample.
    public func collect() async -> [MetricFamilySnapshot] {
        [MetricFamilySnapshot(name: "relayd_build_info", type: .gauge,
                              help: "Always 1; the labels say which relayd version runs and which Swift built it.",
                              samples: [MetricSample(labels: [("version", version), ("swift", Self.swiftVersion)],
                                                     value: 1)])]
    }
}
