import Foundation
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// Whether `promtool` is on the PATH; without it the check is skipped, not failed.
let promtoolPath: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    .map { "\($0)/promtool" }
    .first { FileManager.default.isExecutableFile(atPath: $0) }

let promtoolAvailable = promtoolPath != nil

/// Runs `promtool check metrics` on `text`; returns its exit status and everything it printed.
///
/// Through files, and waited for by polling, so no thread of the test process blocks on it.
func runPromtool(_ text: String) async throws -> (Int32, String) {
    let input = try temporaryFile(text, suffix: ".prom")
    let outputPath = temporaryPath("promtool-output", suffix: ".txt")
    defer {
        try? FileManager.default.removeItem(atPath: input)
        try? FileManager.default.removeItem(atPath: outputPath)
    }
    let child = try ChildProcess(try #require(promtoolPath), ["check", "metrics"], input: .file(input),
                                 output: .file(outputPath), error: .file(outputPath))
    try await eventually("promtool to finish", within: .seconds(60), poll: .milliseconds(20)) { !child.isRunning }
    let report = String(decoding: FileManager.default.contents(atPath: outputPath) ?? Data(), as: UTF8.self)
    guard case .exited(let status) = child.waitUntilExit() else {
        throw TestFailure("promtool ended with \(child.waitUntilExit()): \(report)")
    }
    return (status, report)
}

@Suite struct MetricsPromtoolTests {
    /// A registry with every kind of family relayd writes.
    static func everyKind() async -> MetricsRegistry {
        let registry = MetricsRegistry()
        let bytes = ClosureCollector {
            [MetricFamilySnapshot(name: "relayd_bytes_total", type: .counter,
                                  help: "Bytes relayed, by listener and direction.", samples: [
                                      MetricSample(["listener": "web", "direction": "in"], value: 1_234_567),
                                      MetricSample(["listener": "web", "direction": "out"], value: 89),
                                  ])]
        }
        let active = ClosureCollector {
            [MetricFamilySnapshot(name: "relayd_connections_active", type: .gauge, help: "Open client connections.",
                                  samples: [MetricSample(["listener": "odd \"name\"\\ with\nnewline"], value: -1),
                                            MetricSample(["listener": "web"], value: 12)])]
        }
        let firstServer = Histogram(buckets: Histogram.latencyBuckets)
        for value in [0.0004, 0.0005, 0.003, 0.2, 42.0] { firstServer.observe(value) }
        // A series that exists but has no observations yet.
        let secondServer = Histogram(buckets: Histogram.latencyBuckets)
        let connect = ClosureCollector {
            [.histogram("relayd_backend_connect_seconds", help: "Time to connect to a server, in seconds.",
                        series: [([("backend", "pool"), ("server", "10.0.0.1:80")], firstServer.snapshot()),
                                 ([("backend", "pool"), ("server", "10.0.0.2:80")], secondServer.snapshot())])]
        }
        let lifetimes = Histogram(buckets: Histogram.durationBuckets)
        lifetimes.observe(Duration.seconds(90))
        let lifetime = ClosureCollector {
            [.histogram("relayd_connection_duration_seconds", help: "Connection lifetime.",
                        series: [([], lifetimes.snapshot())])]
        }
        await registry.register(bytes, key: "listener:web/bytes")
        await registry.register(active, key: "listener:web/active")
        await registry.register(connect, key: "backend:pool/connect")
        await registry.register(lifetime, key: "connections/lifetime")
        await registry.register(ProcessMetrics(), key: "process")
        await registry.register(BuildInfoCollector(version: "0.1.0"), key: "build")
        return registry
    }

    @Test func everyKindOfFamilyParsesWithOurParser() async throws {
        let exposition = try PrometheusExposition(parsing: await Self.everyKind().render())
        #expect(exposition.value("relayd_backend_connect_seconds_bucket",
                                 ["backend": "pool", "server": "10.0.0.1:80", "le": "0.0005"]) == 2)
        #expect(exposition.value("relayd_backend_connect_seconds_count",
                                 ["backend": "pool", "server": "10.0.0.2:80"]) == 0)
        #expect(exposition.value("relayd_connections_active", ["listener": "odd \"name\"\\ with\nnewline"]) == -1)
        #expect(exposition.sum("relayd_build_info") == 1)
    }

    @Test(.enabled(if: promtoolAvailable, "promtool (Debian package prometheus) is not installed"))
    func promtoolAcceptsEveryKindOfFamilyWithoutLintProblems() async throws {
        let text = await Self.everyKind().render()
        let (status, report) = try await runPromtool(text)
        #expect(status == 0, "promtool: \(report)\n\(text)")
        #expect(report.isEmpty, "promtool: \(report)")
    }
}
