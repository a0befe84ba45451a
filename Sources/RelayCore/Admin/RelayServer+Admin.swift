import RelayIO
import RelayProtocol

/// What the admin API answers, read from what runs now, and the operations it carries out on the server.
extension RelayServer {
    /// 200 when every backend group has a healthy server, else 503; when `detailed`, the body also counts each
    /// group's healthy servers and names the groups that have none.
    func readiness(detailed: Bool) async -> HTTPResponse {
        var groups: [(String, JSONValue)] = []
        var notReady: [JSONValue] = []
        for (name, group) in backendGroups.sorted(by: { $0.key < $1.key }) {
            let healthy = await group.scoreboard.breakdowns().filter { $0.1.healthy && $0.1.measured }.count
            groups.append((name, .number(healthy)))
            if healthy == 0 { notReady.append(.string(name)) }
        }
        let ready = notReady.isEmpty
        let body: JSONValue = detailed
            ? .object([("ready", .bool(ready)), ("healthy_servers", .object(groups)), ("not_ready", .array(notReady))])
            : .object([("ready", .bool(ready))])
        return .json(ready ? 200 : 503, body.text + "\n")
    }

    /// The Prometheus text, on the admin port too.
    func metricsResponse() async -> HTTPResponse {
        .text(200, await metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
    }

    func reloadResponse() async -> HTTPResponse {
        let result = await reload()
        var members: [(String, JSONValue)] = [
            ("applied", .bool(result.applied)), ("message", .string(result.message)),
            ("generation", .number(result.generation)),
        ]
        if let plan = result.plan {
            members.append(("changes", .object(plan.summary.map { ($0.0, .string($0.1)) })))
        }
        return .json(result.applied ? 200 : 400, JSONValue.object(members).text + "\n")
    }

    /// Closes the idle UDP flows and reliable-UDP sessions now instead of at the next expiry check: those idle for
    /// the listener's `idle_timeout`, or for `?idle=DURATION` when given (`?idle=0s` closes every one; a session
    /// gets CLOSE "idle timeout").
    func cleanupResponse(_ request: HTTPRequest) async -> HTTPResponse {
        var idleFor: Duration?
        if let text = request.queryValue("idle") {
            guard let duration = DurationParser.parse(text) else {
                return .error(400, "idle must be a duration such as 30s or 0s, not \(text)")
            }
            idleFor = duration
        }
        var expired: [(String, JSONValue)] = []
        var total = 0
        for (name, listener) in udpListeners.sorted(by: { $0.key < $1.key }) {
            let count = await listener.store.expire(now: EventLoop.now(), idleFor: idleFor).count
            total += count
            expired.append((name, .number(count)))
        }
        for (name, listener) in reliableListeners.sorted(by: { $0.key < $1.key }) {
            let count = await listener.store.expire(now: EventLoop.now(), idleFor: idleFor).count
            total += count
            expired.append((name, .number(count)))
        }
        logger.info("idle flows and sessions closed on request", ["closed": total])
        return .json(200, JSONValue.object([("expired", .number(total)), ("by_listener", .object(expired))]).text + "\n")
    }

    func setDrained(_ parameters: [String: String], _ drained: Bool) async -> HTTPResponse {
        let groupName = parameters["group"] ?? ""
        let address = parameters["server"] ?? ""
        guard let group = backendGroups[groupName] else {
            return .error(404, "no backend group is named \(groupName)")
        }
        guard let server = group.servers.first(where: { $0.address.description == address }) else {
            return .error(404, "backend \(groupName) has no server \(address); GET /backends lists them")
        }
        let changed = await group.setDrained(server, drained)
        if changed {
            logger.info(drained ? "server drained by an operator" : "server enabled by an operator",
                        ["backend": groupName, "server": address])
        }
        let body: JSONValue = .object([("backend", .string(groupName)), ("server", .string(address)),
                                       ("admin_state", .string(drained ? "drain" : "ready")), ("changed", .bool(changed))])
        return .json(200, body.text + "\n")
    }

    /// The open UDP flows (at most `limit` per listener, default 1000, most recently active first).
    func flowsResponse(_ request: HTTPRequest) async -> HTTPResponse {
        var limit = 1000
        if let text = request.queryValue("limit") {
            guard let value = Int(text), value >= 0 else { return .error(400, "limit must be a whole number ≥ 0") }
            limit = min(value, 100_000)
        }
        let now = EventLoop.now()
        var listeners: [JSONValue] = []
        for listener in config.listeners {
            guard let service = udpListeners[listener.name] else { continue }
            let flows = await service.store.open.sorted {
                $0.lastActivity.load(ordering: .relaxed) > $1.lastActivity.load(ordering: .relaxed)
            }
            let shown = flows.prefix(limit).map { flow -> JSONValue in
                .object([
                    ("client", .string(flow.client.description)), ("server", .string(flow.server.address.description)),
                    ("age_seconds", .number(Double(now &- flow.opened) / 1e9)),
                    ("idle_seconds", .number(Double(now &- flow.lastActivity.load(ordering: .relaxed)) / 1e9)),
                    ("datagrams_in", .number(flow.requests.load(ordering: .relaxed))),
                    ("datagrams_out", .number(flow.replies.load(ordering: .relaxed))),
                    ("bytes_in", .number(flow.bytesUp.load(ordering: .relaxed))),
                    ("bytes_out", .number(flow.bytesDown.load(ordering: .relaxed))),
                ])
            }
            listeners.append(.object([("name", .string(listener.name)), ("total", .number(flows.count)),
                                      ("flows", .array(Array(shown)))]))
        }
        return .json(200, JSONValue.object([("listeners", .array(listeners))]).text + "\n")
    }

    /// `GET /backends`: every group, its active set, and each server's state and score with its parts.
    func backendsJSON() async -> JSONValue {
        var groups: [JSONValue] = []
        for (name, group) in backendGroups.sorted(by: { $0.key < $1.key }) {
            let active = group.selector.current
            let members = Set(active.servers)
            var servers: [JSONValue] = []
            for (server, breakdown) in await group.scoreboard.breakdowns() {
                let state = !breakdown.measured ? "unknown" : breakdown.healthy ? "up" : "down"
                servers.append(.object([
                    ("address", .string(server.address.description)), ("weight", .number(server.weight)),
                    ("state", .string(state)),
                    ("admin_state", .string(server.drained.load(ordering: .relaxed) ? "drain" : "ready")),
                    ("in_active_set", .bool(members.contains(server))),
                    ("score", .object([
                        ("total", .number(breakdown.total)), ("latency", .number(breakdown.latency)),
                        ("jitter", .number(breakdown.jitter)), ("success", .number(breakdown.success)),
                        ("penalty", .number(breakdown.penalty)), ("bonus", .number(breakdown.bonus)),
                    ])),
                    ("latency_ms", .optional(breakdown.latencyMs)), ("jitter_ms", .optional(breakdown.jitterMs)),
                    ("success_rate", .optional(breakdown.successRate)), ("connect_ms", .optional(breakdown.connectMs)),
                    ("ttfb_ms", .optional(breakdown.ttfbMs)),
                    ("consecutive_failures", .number(breakdown.consecutiveFailures)),
                    ("connect_failures", .number(server.connectFailures.load(ordering: .relaxed))),
                    ("connections_active", .number(server.inFlight.load(ordering: .relaxed))),
                    ("connections_total", .number(server.connectionsTotal.load(ordering: .relaxed))),
                    ("down_reason", .optional(breakdown.downReason)), ("last_error", .optional(breakdown.lastError)),
                    ("pool", group.pool?.pool(for: server).map { pool in
                        let sizing = pool.sizing
                        return .object([("size", .number(sizing.size)), ("available", .number(pool.available)),
                                        ("hits", .number(Int(pool.hits.value))), ("misses", .number(Int(pool.misses.value))),
                                        ("peak_concurrency", .number(sizing.peak))])
                    } ?? .null),
                ]))
            }
            groups.append(.object([
                ("name", .string(name)), ("balance", .string(group.config.balance.rawValue)),
                ("active_set", .array(active.servers.map { .string($0.address.description) })),
                ("active_set_generation", .number(Int(active.generation))),
                ("selector_switches", .number(await group.selector.switches)),
                ("servers", .array(servers)),
            ]))
        }
        return .object([("groups", .array(groups))])
    }

    /// A listener's rate limits in `/stats`: what each scope refused and how many client addresses it tracks,
    /// for the scopes that apply to the listener's kind.
    static func rateLimitJSON(_ limiter: RateLimiter, datagrams: Bool) -> JSONValue {
        let scopes = RateLimitScope.allCases.filter { datagrams || $0 != .packetsPerIP }
        return .object([
            ("limited", .object(scopes.map { ($0.rawValue, .number(limiter.limited($0))) })),
            ("tracked_addresses", .object(scopes.filter(\.isPerAddress).map {
                ($0.rawValue, .number(limiter.trackedAddresses($0)))
            })),
        ])
    }

    /// `GET /stats`: the process, the config, every listener's counters and a summary per group.
    func statsJSON() async -> JSONValue {
        let state = runtimeSnapshot
        var process: [String: Double] = [:]
        for family in ProcessMetrics.read() { process[family.name] = family.samples.first?.value }
        var listeners: [JSONValue] = []
        for listener in state.config.listeners {
            var members: [(String, JSONValue)] = [
                ("name", .string(listener.name)), ("protocol", .string(listener.proto.rawValue)),
                ("address", .optional(address(of: listener.name)?.description)),
                ("backend", .optional(listener.backend)),
            ]
            if let tcp = state.tcpListeners[listener.name] {
                let tracker = tcp.tracker
                let percentiles = HistogramPercentiles(tcp.stats.duration.snapshot())
                members += [
                    ("connections", .object([
                        ("active", .number(tracker.active)),
                        ("total", .number(tracker.accepted.load(ordering: .relaxed))),
                        ("refused", .object(ConnectionRefusal.allCases.map { reason in
                            (reason.rawValue, .number(tcp.refusedCount(reason)))
                        })),
                    ])),
                    ("bytes", .object([("in", .number(Int(tcp.stats.bytesIn.value))),
                                       ("out", .number(Int(tcp.stats.bytesOut.value)))])),
                    ("connection_duration_seconds", .object([
                        ("p50", .optional(percentiles.p50)), ("p95", .optional(percentiles.p95)),
                        ("p99", .optional(percentiles.p99)),
                    ])),
                    ("rate_limit", Self.rateLimitJSON(tcp.rateLimiter, datagrams: false)),
                ]
                if tcp.acceptProxy.mode != .off {
                    members.append(("proxy_headers", .number(Int(tcp.stats.proxyHeaders.value))))
                }
                if case let .routed(routes) = tcp.role {
                    members.append(("routes", .array(routes.counts.map { route in
                        .object([("name", .string(route.name)), ("backend", .string(route.backend)),
                                 ("connections", .number(Int(route.connections)))])
                    })))
                }
            } else if let udp = state.udpListeners[listener.name] {
                let counters = udp.counters
                members += [
                    ("connections", .null),
                    ("bytes", .object([("in", .number(counters.bytesUp.load(ordering: .relaxed))),
                                       ("out", .number(counters.bytesDown.load(ordering: .relaxed)))])),
                    ("udp", .object([
                        ("flows_active", .number(await udp.store.count)),
                        ("flows_total", .number(counters.flowsOpened.load(ordering: .relaxed))),
                        ("datagrams_in", .number(counters.datagramsUp.load(ordering: .relaxed))),
                        ("datagrams_out", .number(counters.datagramsDown.load(ordering: .relaxed))),
                        ("drops", .object(udp.dropCounts.map { ($0.0, .number($0.1)) })),
                    ])),
                    ("rate_limit", Self.rateLimitJSON(udp.rateLimiter, datagrams: true)),
                ]
            } else if let reliable = state.reliableListeners[listener.name] {
                let counters = reliable.counters
                members += [
                    ("connections", .null),
                    ("bytes", .object([("in", .number(counters.messageBytesUp.load(ordering: .relaxed))),
                                       ("out", .number(counters.messageBytesDown.load(ordering: .relaxed)))])),
                    ("reliable_udp", await Self.reliableStatsJSON(reliable)),
                    ("rate_limit", Self.rateLimitJSON(reliable.rateLimiter, datagrams: true)),
                ]
            }
            listeners.append(.object(members))
        }
        var groups: [JSONValue] = []
        for (name, group) in state.backendGroups.sorted(by: { $0.key < $1.key }) {
            let breakdowns = await group.scoreboard.breakdowns()
            groups.append(.object([
                ("name", .string(name)), ("balance", .string(group.config.balance.rawValue)),
                ("servers", .number(breakdowns.count)),
                ("healthy", .number(breakdowns.filter { $0.1.healthy && $0.1.measured }.count)),
                ("active_set", .array(group.selector.current.servers.map { .string($0.address.description) })),
                ("connections_active", .number(group.servers.reduce(0) { $0 + $1.inFlight.load(ordering: .relaxed) })),
            ]))
        }
        let last: JSONValue = state.lastReload.map { result in
            .object([("result", .string(result.applied ? "success" : "failure")),
                     ("at", .string(UTCDate(secondsSince1970: Int64(result.at)).iso8601)),
                     ("error", result.applied ? .null : .string(result.message))])
        } ?? .null
        return .object([
            ("version", .string(RelaydVersion.current)),
            ("uptime_seconds", .number(WallClock.seconds() - startedAt)),
            ("started_at", .string(UTCDate(secondsSince1970: Int64(startedAt)).iso8601)),
            ("config", .object([
                ("path", .optional(configPath)), ("generation", .number(state.generation)), ("last_reload", last),
                ("reloads", .object([("success", .number(state.reloadsSucceeded)),
                                     ("failure", .number(state.reloadsFailed))])),
            ])),
            ("process", .object([
                ("rss_bytes", .optional(process["process_resident_memory_bytes"])),
                ("cpu_seconds", .optional(process["process_cpu_seconds_total"])),
                ("open_fds", .optional(process["process_open_fds"])),
                ("max_fds", .optional(process["process_max_fds"])),
                ("threads", .optional(process["process_threads"])),
            ])),
            ("listeners", .array(listeners)),
            ("backends", .array(groups)),
        ])
    }
}
