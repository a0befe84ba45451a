/// A collector made of a closure, for values computed at scrape time: an actor's scores, the values of
/// atomics that already exist elsewhere (a `ConnectionTracker`'s counts), anything read from the system.
public struct ClosureCollector: MetricsCollector {
    /// Produces the families on each scrape.
    private let body: @Sendable () async -> [MetricFamilySnapshot]

    public init(_ body: @escaping @Sendable () async -> [MetricFamilySnapshot]) {
        self.body = body
    }

    /// What the closure returns.
    public func collect() async -> [MetricFamilySnapshot] {
        await body()
    }
}
