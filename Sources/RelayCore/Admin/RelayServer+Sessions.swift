import RelayIO
import RelayProtocol

/// The admin API's view of the reliable-UDP listeners: `GET /sessions`, their part of `/stats` and `/cleanup`.
extension RelayServer {
    /// The open reliable-UDP sessions (at most `limit` per listener, default 1000, most recently active first):
    /// client id, address, server, RTT, packets in flight, retransmissions, age and idle time.
    func sessionsResponse(_ request: HTTPRequest) async -> HTTPResponse {
        var limit = 1000
        if let text = request.queryValue("limit") {
            guard let value = Int(text), value >= 0 else { return .error(400, "limit must be a whole number ≥ 0") }
            limit = min(value, 100_000)
        }
        let now = EventLoop.now()
        var listeners: [JSONValue] = []
        for listener in config.listeners {
            guard let service = reliableListeners[listener.name] else { continue }
            let sessions = await service.store.open.sorted { $0.lastActivityTime > $1.lastActivityTime }
            let shown = sessions.prefix(limit).map { session -> JSONValue in
                let snapshot = session.snapshot
                return .object([
                    ("session", .string(ReliableUDPLoop.hex(session.id))), ("client_id", .string(session.clientID)),
                    ("client", .string(snapshot.client.description)),
                    ("server", .string(session.server.address.description)),
                    ("rtt_ms", snapshot.rttSampled ? .number(Double(snapshot.smoothedRTT) / 1e6) : .null),
                    ("in_flight", .number(snapshot.packetsInFlight)),
                    ("queued_messages", .number(snapshot.queuedMessages)),
                    ("retransmits", .number(Int(snapshot.stats.retransmitted))),
                    ("messages_in", .number(Int(snapshot.stats.messagesReceived))),
                    ("messages_out", .number(Int(snapshot.stats.messagesSent))),
                    ("age_seconds", .number(Double(now &- session.opened) / 1e9)),
                    ("idle_seconds", .number(Double(now &- session.lastActivityTime) / 1e9)),
                ])
            }
            listeners.append(.object([("name", .string(listener.name)), ("total", .number(sessions.count)),
                                      ("sessions", .array(Array(shown)))]))
        }
        return .json(200, JSONValue.object([("listeners", .array(listeners))]).text + "\n")
    }

    /// A reliable-UDP listener's part of `/stats`: sessions, handshakes, packets, drops, and the RTT and delivery
    /// latency percentiles (seed 000's p50/p95/p99), in milliseconds.
    static func reliableStatsJSON(_ listener: ReliableUDPListenerService) async -> JSONValue {
        let counters = listener.counters
        func milliseconds(_ snapshot: HistogramSnapshot) -> JSONValue {
            let percentiles = HistogramPercentiles(snapshot)
            return .object([("count", .number(Int(percentiles.count))),
                            ("p50", .optional(percentiles.p50.map { $0 * 1000 })),
                            ("p95", .optional(percentiles.p95.map { $0 * 1000 })),
                            ("p99", .optional(percentiles.p99.map { $0 * 1000 }))])
        }
        return .object([
            ("sessions_active", .number(await listener.store.count)),
            ("sessions_opened", .number(counters.sessionsOpened.load(ordering: .relaxed))),
            ("max_sessions", .number(await listener.store.limit)),
            ("handshakes", .object(ReliableHandshakeResult.allCases.map { ($0.rawValue, .number(counters.handshakes($0))) })),
            ("packets_in", .number(counters.packetsIn.load(ordering: .relaxed))),
            ("packets_out", .number(counters.packetsOut.load(ordering: .relaxed))),
            ("messages_in", .number(counters.messagesUp.load(ordering: .relaxed))),
            ("messages_out", .number(counters.messagesDown.load(ordering: .relaxed))),
            ("retransmitted", .number(counters.retransmitted.load(ordering: .relaxed))),
            ("duplicates", .number(counters.duplicates.load(ordering: .relaxed))),
            ("out_of_order", .number(counters.outOfOrder.load(ordering: .relaxed))),
            ("drops", .object(listener.dropCounts.map { ($0.0, .number($0.1)) })),
            ("rtt_ms", milliseconds(counters.rtt.snapshot())),
            ("delivery_latency_ms", milliseconds(counters.deliveryLatency.snapshot())),
        ])
    }
}
