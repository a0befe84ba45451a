import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

@Suite struct MetricsRegistryTests {
    /// Two listeners' byte counters (one family, two collectors), a gauge, a histogram, and an empty family.
    static func smallSetup() async -> MetricsRegistry {
        let registry = MetricsRegistry()
        let webBytes = family("relayd_bytes_total", .counter, "Bytes relayed.", [
            MetricSample(["listener": "web", "direction": "in"], value: 1200),
            MetricSample(["listener": "web", "direction": "out"], value: 34_000),
        ])
        let dnsBytes = family("relayd_bytes_total", .counter, "Bytes relayed.", [
            MetricSample(["listener": "dns", "direction": "in"], value: 80),
        ])
        let webActive = family("relayd_connections_active", .gauge, "Open connections.", [
            MetricSample(["listener": "web"], value: 3),
        ])
        let pool = Histogram(buckets: [0.001, 0.01])
        pool.observe(0.0005)
        pool.observe(0.004)
        pool.observe(0.004)
        let connect = ClosureCollector {
            [.histogram("relayd_backend_connect_seconds", help: "Time to connect to a server.",
                        series: [([("backend", "pool")], pool.snapshot())])]
        }
        let servers = ClosureCollector {
            [MetricFamilySnapshot(name: "relayd_servers_up", type: .gauge, help: "Servers in the active set.")]
        }
        await registry.register(webBytes, key: "listener:web/bytes")
        await registry.register(webActive, key: "listener:web/active")
        await registry.register(dnsBytes, key: "listener:dns/bytes")
        await registry.register(connect, key: "backend:pool/connect")
        await registry.register(servers, key: "backend:pool/servers")
        return registry
    }

    /// A collector that always returns one family with these samples.
    static func family(_ name: String, _ type: PrometheusMetricType, _ help: String,
                       _ samples: [MetricSample]) -> ClosureCollector {
        ClosureCollector { [MetricFamilySnapshot(name: name, type: type, help: help, samples: samples)] }
    }

    @Test func rendersFamiliesSortedByName_mergingOneFamilyFromTwoCollectorsInKeyOrder() async throws {
        let registry = await Self.smallSetup()
        let text = await registry.render()
        #expect(text == """
            # HELP relayd_backend_connect_seconds Time to connect to a server.
            # TYPE relayd_backend_connect_seconds histogram
            relayd_backend_connect_seconds_bucket{backend="pool",le="0.001"} 1
            relayd_backend_connect_seconds_bucket{backend="pool",le="0.01"} 3
            relayd_backend_connect_seconds_bucket{backend="pool",le="+Inf"} 3
            relayd_backend_connect_seconds_sum{backend="pool"} 0.0085
            relayd_backend_connect_seconds_count{backend="pool"} 3
            # HELP relayd_bytes_total Bytes relayed.
            # TYPE relayd_bytes_total counter
            relayd_bytes_total{listener="dns",direction="in"} 80
            relayd_bytes_total{listener="web",direction="in"} 1200
            relayd_bytes_total{listener="web",direction="out"} 34000
            # HELP relayd_connections_active Open connections.
            # TYPE relayd_connections_active gauge
            relayd_connections_active{listener="web"} 3
            # HELP relayd_servers_up Servers in the active set.
            # TYPE relayd_servers_up gauge

            """)
        _ = try PrometheusExposition(parsing: text)
    }

    @Test func registeringUnderAnExistingKeyReplacesTheCollector() async {
        let registry = MetricsRegistry()
        await registry.register(Self.gauge("relayd_generation", 1), key: "config")
        await registry.register(Self.gauge("relayd_generation", 2), key: "config")
        #expect(await registry.render() == """
            # HELP relayd_generation Test gauge.
            # TYPE relayd_generation gauge
            relayd_generation 2

            """)
    }

    @Test func familiesWithConflictingTypesKeepTheFirstCollectorsByKey() async throws {
        let registry = MetricsRegistry()
        await registry.register(Self.gauge("relayd_events_total", 5), key: "b")
        await registry.register(ClosureCollector {
            [MetricFamilySnapshot(name: "relayd_events_total", type: .counter, help: "Events.",
                                  samples: [MetricSample(["source": "a"], value: 7)])]
        }, key: "a")
        let text = await registry.render()
        #expect(text == """
            # HELP relayd_events_total Events.
            # TYPE relayd_events_total counter
            relayd_events_total{source="a"} 7

            """)
        _ = try PrometheusExposition(parsing: text)
    }

    @Test func emptyRegistryRendersNothing() async {
        #expect(await MetricsRegistry().render() == "")
    }

    static func gauge(_ name: String, _ value: Double) -> ClosureCollector {
        ClosureCollector {
            [MetricFamilySnapshot(name: name, type: .gauge, help: "Test gauge.", samples: [MetricSample(value: value)])]
        }
    }
}
