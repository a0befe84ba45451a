import RelayIO
import Synchronization
import RelayProtocol

/// The server's metrics, read at scrape time from what runs now: the listeners' and groups' handles and
/// atomics, the Scoreboards and Selectors, the supervisor. Nothing is registered per listener or group, so a
/// reload that removes one removes its series with it. Names follow Prometheus conventions: `relayd_` prefix,
/// base units (seconds, bytes), `_total` counters.
extension RelayServer {
    /// A listener's two series of a counter pair, labelled `direction` = `in` (from clients) and `out`.
    static func inOut(_ listener: String, _ inbound: borrowing Atomic<Int>, _ outbound: borrowing Atomic<Int>)
        -> [([String: String], Double)] {
        [(["listener": listener, "direction": "in"], Double(inbound.load(ordering: .relaxed))),
         (["listener": listener, "direction": "out"], Double(outbound.load(ordering: .relaxed)))]
    }

    /// Every family this server exports, in a fixed order.
    func collectMetrics() async -> [MetricFamilySnapshot] {
        let state = runtimeSnapshot
        var out = MetricFamilies()

        // Listeners.
        let tcp = state.config.listeners.compactMap { listener in state.tcpListeners[listener.name] }
        let udp = state.config.listeners.compactMap { listener in state.udpListeners[listener.name] }
        out.counter("relayd_connections_total", "TCP connections accepted and admitted, by listener.",
                    tcp.map { (["listener": $0.name], Double($0.tracker.accepted.load(ordering: .relaxed))) })
        out.gauge("relayd_connections_active", "TCP connections open now, by listener.",
                  tcp.map { (["listener": $0.name], Double($0.tracker.active)) })
        out.counter("relayd_connections_refused_total",
                    "TCP connections refused, by listener and reason (max_connections, max_connections_per_ip, "
                    + "no_backend: no server of the group accepted it, local_resources: relayd itself ran out of "
                    + "file descriptors, memory or local ports, rate_limited: over rate_limit.per_ip or .total, "
                    + "bad_proxy_header: accept_proxy without a valid PROXY header, or from a peer not in proxy_trusted).",
                    tcp.flatMap { listener in
                        ConnectionRefusal.allCases.map { reason in
                            (["listener": listener.name, "reason": reason.rawValue],
                             Double(listener.refusedCount(reason)))
                        }
                    })
        out.counter("relayd_connections_closed_total",
                    "TCP connections finished, by listener and how they ended (closed, error, cancelled, no_backend, "
                    + "local_resources, idle: idle_timeout passed, client_timeout: first_byte_timeout passed, "
                    + "bad_proxy_header).",
                    tcp.flatMap { listener in
                        ConnectionEnd.allCases.map { end in
                            (["listener": listener.name, "end": end.rawValue], Double(listener.stats.ended(end).value))
                        }
                    })
        out.counter("relayd_route_connections_total",
                    "TCP connections by the route that chose their backend group (routes; route=\"default\": none "
                    + "matched, the listener's own backend), by listener.",
                    tcp.flatMap { listener -> [([String: String], Double)] in
                        guard case let .routed(routes) = listener.role else { return [] }
                        return routes.counts.map { route in
                            (["listener": listener.name, "route": route.name, "backend": route.backend],
                             Double(route.connections))
                        }
                    })
        let gateways = tcp.compactMap { listener -> (String, HTTPGateway)? in
            guard case let .http(gateway) = listener.role else { return nil }
            return (listener.name, gateway)
        }
        let classNames = ["none", "1xx", "2xx", "3xx", "4xx", "5xx"]
        out.counter("relayd_http_requests_total",
                    "HTTP requests by listener, route and status class (class=\"none\": the client left before an "
                    + "answer); relayd's own answers included.",
                    gateways.flatMap { name, gateway in
                        gateway.counters.routes.sorted { $0.key < $1.key }.flatMap { route, classes in
                            classes.byClass.enumerated().compactMap { index, counter in
                                counter.value == 0 ? nil
                                    : (["listener": name, "route": route, "class": classNames[index]], Double(counter.value))
                            }
                        }
                    })
        out.counter("relayd_http_server_responses_total",
                    "HTTP requests sent to each server, by listener, server (backend/address) and status class.",
                    gateways.flatMap { name, gateway in
                        gateway.counters.serverClasses.flatMap { server, classes in
                            classes.byClass.enumerated().compactMap { index, counter in
                                counter.value == 0 ? nil
                                    : (["listener": name, "server": server, "class": classNames[index]], Double(counter.value))
                            }
                        }
                    })
        out.families.append(.histogram("relayd_http_request_duration_seconds",
                                       help: "HTTP request durations, from the head read to the last byte of the answer, "
                                           + "by listener and route.",
                                       series: gateways.flatMap { name, gateway in
                                           gateway.counters.routes.sorted { $0.key < $1.key }.map { route, classes in
                                               ([("listener", name), ("route", route)], classes.duration.snapshot())
                                           }
                                       }))
        out.gauge("relayd_http_requests_in_flight", "HTTP requests being answered now, by listener.",
                  gateways.map { (["listener": $0.0], Double($0.1.counters.inFlight.load(ordering: .relaxed))) })
        out.counter("relayd_http_retries_total", "HTTP requests sent again to another server, by listener.",
                    gateways.map { (["listener": $0.0], Double($0.1.counters.retries.value)) })
        out.counter("relayd_http_upgrades_total", "HTTP connections upgraded (WebSocket), by listener.",
                    gateways.map { (["listener": $0.0], Double($0.1.counters.upgrades.value)) })
        out.counter("relayd_http_rejected_total",
                    "HTTP requests relayd answered itself, by listener and reason (bad_request, no_route, forbidden, "
                    + "no_api_key, bad_api_key, rate_limited, no_server, upstream_connect, upstream_closed, "
                    + "upstream_reset, upstream_timeout, upstream_malformed, bad_body).",
                    gateways.flatMap { name, gateway in
                        gateway.counters.rejections.map { (["listener": name, "reason": $0.0], Double($0.1)) }
                    })
        out.counter("relayd_proxy_headers_total",
                    "PROXY protocol headers read from trusted proxies (accept_proxy), by listener.",
                    tcp.filter { $0.acceptProxy.mode != .off }.map {
                        (["listener": $0.name], Double($0.stats.proxyHeaders.value))
                    })
        var bytes: [([String: String], Double)] = []
        for listener in tcp {
            bytes.append((["listener": listener.name, "direction": "in"], Double(listener.stats.bytesIn.value)))
            bytes.append((["listener": listener.name, "direction": "out"], Double(listener.stats.bytesOut.value)))
        }
        for listener in udp {
            bytes += Self.inOut(listener.name, listener.counters.bytesUp, listener.counters.bytesDown)
        }
        out.counter("relayd_bytes_total",
                    "Bytes relayed, by listener and direction: in = received from clients, out = sent to clients.",
                    bytes)
        out.families.append(.histogram("relayd_connection_duration_seconds",
                                       help: "Lifetime of finished TCP connections, from accept to close.",
                                       series: tcp.map { ([("listener", $0.name)], $0.stats.duration.snapshot()) }))

        // UDP.
        var flowsActive: [([String: String], Double)] = []
        var flowsExpired: [([String: String], Double)] = []
        for listener in udp {
            flowsActive.append((["listener": listener.name], Double(await listener.store.count)))
            flowsExpired.append((["listener": listener.name], Double(await listener.store.expired)))
        }
        out.gauge("relayd_udp_flows_active", "UDP flows open now, by listener.", flowsActive)
        out.counter("relayd_udp_flows_total", "UDP flows opened, by listener.",
                    udp.map { (["listener": $0.name], Double($0.counters.flowsOpened.load(ordering: .relaxed))) })
        out.counter("relayd_udp_flows_expired_total", "UDP flows closed after idle_timeout, by listener.", flowsExpired)
        out.counter("relayd_udp_flows_moved_total",
                    "UDP flows moved to another server after theirs answered ICMP unreachable, by listener.",
                    udp.map { (["listener": $0.name], Double($0.counters.flowsMoved.load(ordering: .relaxed))) })
        let segmented = udp.flatMap { Self.inOut($0.name, $0.counters.segmentedUp, $0.counters.segmentedDown) }
        out.counter("relayd_udp_datagrams_segmented_total",
                    "UDP datagrams relayed in segmented sends (io.udp_segmentation), by listener and direction: "
                        + "in = from clients to servers, out = to clients.", segmented)
        out.counter("relayd_udp_segmentation_refused_total",
                    "Segmented sends a path refused (that flow's direction then sends datagram by datagram), by listener.",
                    udp.map { (["listener": $0.name], Double($0.counters.segmentationRefused.load(ordering: .relaxed))) })
        var datagrams: [([String: String], Double)] = []
        var drops: [([String: String], Double)] = []
        for listener in udp {
            let counters = listener.counters
            datagrams.append((["listener": listener.name, "direction": "in"],
                              Double(counters.datagramsUp.load(ordering: .relaxed))))
            datagrams.append((["listener": listener.name, "direction": "out"],
                              Double(counters.datagramsDown.load(ordering: .relaxed))))
            for (reason, value) in listener.dropCounts {
                drops.append((["listener": listener.name, "reason": reason], Double(value)))
            }
        }
        out.counter("relayd_udp_datagrams_total",
                    "UDP datagrams relayed, by listener and direction: in = from clients, out = to clients.", datagrams)
        out.counter("relayd_udp_dropped_datagrams_total",
                    "UDP datagrams dropped, by listener and reason (flow_limit, truncated, no_backend, send_failed, "
                    + "local_resources: relayd itself was out of descriptors, socket memory or local ports, "
                    + "rate_limited: over rate_limit.packets_per_ip, or opening a flow over .per_ip or .total).",
                    drops)

        // Rate limits: the scopes that apply to each listener's kind (TCP has no datagrams to limit).
        let reliable = state.config.listeners.compactMap { listener in state.reliableListeners[listener.name] }
        let limiters = tcp.map { ($0.name, $0.rateLimiter, false) } + udp.map { ($0.name, $0.rateLimiter, true) }
            + reliable.map { ($0.name, $0.rateLimiter, true) }
        var limited: [([String: String], Double)] = []
        var tracked: [([String: String], Double)] = []
        for (name, limiter, datagrams) in limiters {
            for scope in RateLimitScope.allCases where datagrams || scope != .packetsPerIP {
                limited.append((["listener": name, "scope": scope.rawValue], Double(limiter.limited(scope))))
                if scope.isPerAddress {
                    tracked.append((["listener": name, "scope": scope.rawValue],
                                    Double(limiter.trackedAddresses(scope))))
                }
            }
        }
        out.counter("relayd_rate_limited_total",
                    "Connections, flows and datagrams refused by a listener's rate_limit, by listener and scope "
                    + "(per_ip, total: new connections, flows and reliable-UDP handshakes; packets_per_ip: UDP and "
                    + "reliable-UDP datagrams).", limited)
        out.gauge("relayd_rate_limit_tracked_addresses",
                  "Client addresses with a token bucket now, by listener and scope (at most 65536 each; buckets "
                  + "that have filled up again are forgotten).", tracked)

        await collectReliableMetrics(reliable, into: &out)

        // Backend groups and their servers.
        let groups = state.backendGroups.sorted { $0.key < $1.key }.map(\.value)
        var serverRows: [(BackendGroup, ServerHandle, ScoreBreakdown, Bool)] = []
        var switches: [([String: String], Double)] = []
        for group in groups {
            let active = Set(group.selector.current.servers)
            for (server, breakdown) in await group.scoreboard.breakdowns() {
                serverRows.append((group, server, breakdown, active.contains(server)))
            }
            switches.append((["backend": group.name], Double(await group.selector.switches)))
        }
        func perServer(_ value: (ServerHandle, ScoreBreakdown, Bool) -> Double?) -> [([String: String], Double)] {
            serverRows.compactMap { group, server, breakdown, active in
                value(server, breakdown, active).map { (["backend": group.name, "server": server.address.description], $0) }
            }
        }
        out.gauge("relayd_backend_servers", "Servers in each backend group.",
                  groups.map { (["backend": $0.name], Double($0.servers.count)) })
        out.gauge("relayd_backend_active_set_size", "Servers in each group's active set.",
                  groups.map { (["backend": $0.name], Double($0.selector.current.servers.count)) })
        out.counter("relayd_selector_switches_total", "Active set changes, by backend group.", switches)
        out.gauge("relayd_backend_score", "Each server's score (0-100) from latency, jitter, success rate, "
                  + "failure penalty and history bonus.", perServer { _, breakdown, _ in breakdown.total })
        out.gauge("relayd_backend_healthy", "1 when the server is up (measured and passing), else 0.",
                  perServer { _, breakdown, _ in breakdown.healthy && breakdown.measured ? 1 : 0 })
        out.gauge("relayd_backend_in_active_set", "1 when the server is in its group's active set, else 0.",
                  perServer { _, _, active in active ? 1 : 0 })
        out.gauge("relayd_backend_drained", "1 when an operator drained the server (no new connections), else 0.",
                  perServer { server, _, _ in server.drained.load(ordering: .relaxed) ? 1 : 0 })
        out.gauge("relayd_backend_consecutive_failures", "Failures in a row (probes and refused connects).",
                  perServer { _, breakdown, _ in Double(breakdown.consecutiveFailures) })
        out.gauge("relayd_backend_latency_seconds", "The server's smoothed (EWMA) probe latency.",
                  perServer { _, breakdown, _ in breakdown.latencyMs.map { $0 / 1000 } })
        out.gauge("relayd_backend_connect_seconds", "The server's smoothed (EWMA) connect time seen by real traffic.",
                  perServer { _, breakdown, _ in breakdown.connectMs.map { $0 / 1000 } })
        out.gauge("relayd_backend_ttfb_seconds",
                  "The server's smoothed (EWMA) time to first byte of its responses, seen by real traffic.",
                  perServer { _, breakdown, _ in breakdown.ttfbMs.map { $0 / 1000 } })
        out.gauge("relayd_backend_success_ratio", "The server's smoothed (EWMA) success rate, 0 to 1.",
                  perServer { _, breakdown, _ in breakdown.successRate })
        out.gauge("relayd_backend_connections_active", "Connections and UDP flows open to the server now.",
                  perServer { server, _, _ in Double(server.inFlight.load(ordering: .relaxed)) })
        out.counter("relayd_backend_connections_total", "Connections and UDP flows sent to the server.",
                    perServer { server, _, _ in Double(server.connectionsTotal.load(ordering: .relaxed)) })
        out.counter("relayd_backend_connect_failures_total", "Connection attempts to the server that failed.",
                    perServer { server, _, _ in Double(server.connectFailures.load(ordering: .relaxed)) })
        out.families.append(.histogram("relayd_backend_connect_duration_seconds",
                                       help: "Time to connect to a server of the group (successful connects).",
                                       series: groups.map { ([("backend", $0.name)], $0.stats.connectDuration.snapshot()) }))
        var probes: [([String: String], Double)] = []
        for group in groups {
            probes.append((["backend": group.name, "result": "success"], Double(group.stats.probeSuccesses.value)))
            probes.append((["backend": group.name, "result": "failure"], Double(group.stats.probeFailures.value)))
            probes.append((["backend": group.name, "result": "local_error"],
                           Double(group.stats.probeLocalErrors.value)))
        }
        out.counter("relayd_probes_total",
                    "Active health probes, by backend group and result (success, failure, local_error: relayd itself "
                    + "had no socket, memory or port for it; not scored).", probes)
        out.families.append(.histogram("relayd_probe_duration_seconds",
                                       help: "How long health probes took (until the answer or the timeout).",
                                       series: groups.map { ([("backend", $0.name)], $0.stats.probeDuration.snapshot()) }))

        // Connection pools.
        var pools: [(BackendGroup, ServerPool, PoolSizing)] = []
        for group in groups {
            for pool in group.pool?.serverPools ?? [] { pools.append((group, pool, pool.sizing)) }
        }
        func perPool(_ value: (ServerPool, PoolSizing) -> Double) -> [([String: String], Double)] {
            pools.map { group, pool, sizing in
                (["backend": group.name, "server": pool.server.address.description], value(pool, sizing))
            }
        }
        out.gauge("relayd_pool_size", "Warm connections the pool aims to keep per server.",
                  perPool { _, sizing in Double(sizing.size) })
        out.gauge("relayd_pool_available_connections", "Warm connections ready for the next clients.",
                  perPool { pool, _ in Double(pool.available) })
        out.gauge("relayd_pool_in_use_connections", "Connections to the server in use now.",
                  perPool { pool, _ in Double(pool.server.inFlight.load(ordering: .relaxed)) })
        out.counter("relayd_pool_hits_total", "Client connections that got a warm connection.",
                    perPool { pool, _ in Double(pool.hits.value) })
        out.counter("relayd_pool_misses_total", "Client connections that found no warm connection and dialed.",
                    perPool { pool, _ in Double(pool.misses.value) })
        out.counter("relayd_pool_discarded_total",
                    "Warm connections closed unused: closed by the server, sent data while idle, idle too long, "
                    + "or beyond the size.", perPool { pool, _ in Double(pool.discarded.value) })
        out.counter("relayd_pool_scale_ups_total", "Times a dynamic pool grew.", perPool { _, sizing in Double(sizing.scaleUps) })
        out.counter("relayd_pool_scale_downs_total", "Times a dynamic pool shrank.",
                    perPool { _, sizing in Double(sizing.scaleDowns) })
        out.gauge("relayd_pool_utilization_ratio",
                  "Connections in use divided by in use plus warm: how much of what the pool opened is serving.",
                  perPool { pool, _ in
                      let inUse = Double(pool.server.inFlight.load(ordering: .relaxed))
                      return inUse / max(1, inUse + Double(pool.available))
                  })
        out.gauge("relayd_pool_peak_concurrency", "Highest concurrency seen in the pool's recent window.",
                  perPool { _, sizing in Double(sizing.peak) })
        out.counter("relayd_pool_dial_local_errors_total",
                    "Pool dials that could not start because relayd itself had no socket, memory or port (the "
                    + "server is not backed off from), by backend group.",
                    groups.filter { $0.pool != nil }.map { (["backend": $0.name], Double($0.stats.poolDialLocalErrors.value)) })

        // The daemon itself.
        var restarts: [([String: String], Double)] = []
        for name in await supervisor.serviceNames {
            restarts.append((["service": name], Double(await supervisor.restartCount(of: name))))
        }
        out.counter("relayd_service_restarts_total", "Restarts of each supervised component after a failure.", restarts)
        out.counter("relayd_config_reloads_total", "Config reloads, by result (success, failure).", [
            (["result": "success"], Double(state.reloadsSucceeded)), (["result": "failure"], Double(state.reloadsFailed)),
        ])
        out.gauge("relayd_config_last_reload_successful", "1 when the last reload was applied (or none was tried).",
                  [([:], state.lastReload.map { $0.applied ? 1 : 0 } ?? 1)])
        out.gauge("relayd_config_last_reload_success_timestamp_seconds",
                  "When the running config was loaded (start or last applied reload), in seconds since 1970.",
                  [([:], state.loadedAt)])
        out.gauge("relayd_config_generation", "1 for the config relayd started with, +1 per applied reload.",
                  [([:], Double(state.generation))])
        out.gauge("relayd_uptime_seconds", "Seconds since relayd started.", [([:], WallClock.seconds() - startedAt)])
        if let accessLog {
            out.counter("relayd_access_log_dropped_total",
                        "Access-log lines dropped because the destination could not keep up.",
                        [([:], Double(accessLog.dropped.load(ordering: .relaxed)))])
        }
        await collectMultipathMetrics(state, into: &out)
        return out.families
    }
}
