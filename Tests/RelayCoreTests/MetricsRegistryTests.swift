import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

@Suite struct MetricsRegistryTests {
    /// Two listeners' byte counters (one family, two collectors), a gauge, a histogram, and an empty family.
    static func smallSetup() async -> MetricsRegistry {
        let registry = MetricsRegistry()
        let webBytes = CounterFamily("relayd_bytes_total", help: "Bytes relayed.", labels: ["listener", "direction"])
        webBytes.labels("web", "in").increment(by: 1200)
        webBytes.labels("web", "out").increment(by: 34_000)
        let dnsBytes = CounterFamily("relayd_bytes_total", help: "Bytes relayed.", labels: ["listener", "direction"])
        dnsBytes.labels("dns", "in").increment(by: 80)
        let webActive = GaugeFamily("relayd_connections_active", help: "Open connections.", labels: ["listener"])
        webActive.labels("web").set(3)
        let connect = HistogramFamily("relayd_backend_connect_seconds", help: "Time to connect to a server.",
                                      labels: ["backend"], buckets: [0.001, 0.01])
        connect.labels("pool").observe(0.0005)
        connect.labels("pool").observe(0.004)
        connect.labels("pool").observe(0.004)
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

    @Test func unregisterByKeyRemovesThatCollectorsSeries() async throws {
        let registry = await Self.smallSetup()
        await registry.unregister(key: "listener:dns/bytes")
        let exposition = try PrometheusExposition(parsing: await registry.render())
        #expect(exposition.value("relayd_bytes_total", ["listener": "dns", "direction": "in"]) == nil)
        #expect(exposition.sum("relayd_bytes_total") == 35_200)
    }

    @Test func unregisterByPrefixRemovesEveryCollectorUnderIt() async throws {
        let registry = await Self.smallSetup()
        await registry.unregister(prefix: "listener:web/")
        #expect(await registry.keys == ["backend:pool/connect", "backend:pool/servers", "listener:dns/bytes"])
        let exposition = try PrometheusExposition(parsing: await registry.render())
        #expect(exposition.sum("relayd_bytes_total", where: ["listener": "web"]) == 0)
        #expect(exposition.sum("relayd_bytes_total") == 80)
        #expect(exposition.family("relayd_connections_active") == nil)
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
