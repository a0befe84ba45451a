import RelayIO
import RelayProtocol

/// `GET /links`: every multipath listener's links. A client listener shows each link as its LinkMonitor measures
/// it (remote, resolved address, RTT, jitter, loss, score, state, bytes each way) and its last switch and why; a
/// server listener shows each client's links as learnt from authenticated frames and the return path.
extension RelayServer {
    func linksJSON() async -> JSONValue {
        let state = runtimeSnapshot
        var listeners: [JSONValue] = []
        for listener in state.config.listeners {
            if let client = state.multipathClients[listener.name] {
                listeners.append(await Self.clientLinksJSON(client))
            } else if let server = state.multipathServers[listener.name] {
                let clients: [JSONValue] = server.clientReports.map { report in
                    .object([("client_id", .string(report.id)),
                             ("return_path", report.returnPath.map { .string("\($0)") } ?? .null),
                             ("links", .array(report.links.map { .string("\($0)") })),
                             ("flows", .int(Int64(report.flows)))])
                }
                listeners.append(.object([("listener", .string(server.name)), ("role", "server"),
                                          ("address", .string("\(server.address)")), ("clients", .array(clients))]))
            }
        }
        return .object([("listeners", .array(listeners))])
    }

    private static func clientLinksJSON(_ client: MultipathClientService) async -> JSONValue {
        let monitor = client.monitor
        let statuses = await monitor.statuses
        let lastSwitch = await monitor.lastSwitch
        let route = monitor.route
        let links: [JSONValue] = zip(client.links, statuses).map { link, status in
            let state = status.isActive ? "active" : (status.health == .up ? "up" : status.health.description)
            return .object([
                ("name", .string(link.name)), ("remote", .string(link.remote.description)),
                ("address", link.address.map { .string("\($0)") } ?? .null), ("priority", .number(link.priority)),
                ("state", .string(state)), ("sending", .bool(route.sendTargets.contains(link.index))),
                ("rtt_ms", status.smoothedRTTMilliseconds.map(JSONValue.number) ?? .null),
                ("jitter_ms", .number(status.rttVarianceMilliseconds)), ("loss_percent", .number(status.lossPercent)),
                ("score", status.score.map(JSONValue.number) ?? .null),
                ("throughput_kbps", .number(status.bytesPerSecond * 8 / 1000)),
                ("bytes_out", .int(Int64(link.bytesSent.load(ordering: .relaxed)))),
                ("bytes_in", .int(Int64(link.bytesReceived.load(ordering: .relaxed)))),
                ("heartbeats_sent", .int(Int64(status.heartbeatsSent))), ("heartbeats_lost", .int(Int64(status.lost))),
            ])
        }
        let switchJSON: JSONValue = lastSwitch.map { last in
            .object([("at", .string(UTCDate(secondsSince1970: Int64(last.at)).iso8601)), ("from", last.from.map(JSONValue.string) ?? .null),
                     ("to", .string(last.to)), ("reason", .string(last.reason))])
        } ?? .null
        let counters = client.counters
        return .object([
            ("listener", .string(client.name)), ("role", "client"), ("address", .string("\(client.address)")),
            ("redundancy", .string(route.sendTargets.count > 1 ? "on" : "off")),
            ("duplicates_sent", .int(Int64(counters.duplicatesSent.load(ordering: .relaxed)))),
            ("duplicates_dropped", .int(Int64(counters.duplicatesDropped.load(ordering: .relaxed)))),
            ("last_switch", switchJSON), ("links", .array(links)),
        ])
    }
}
