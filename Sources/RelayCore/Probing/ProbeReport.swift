import RelayIO
import RelayProtocol

/// `relayd probe`: probes every server of every group `count` times with the group's probe kind, scores
/// the results with the group's scoring parameters, and reports them best first.
public enum ProbeReport {
    public static func run(config: RelayConfig, count: Int, loops: EventLoopGroup) async -> [ProbeReportRow] {
        var rows: [ProbeReportRow] = []
        for (name, backend) in config.backends.sorted(by: { $0.key < $1.key }) {
            var servers: [ServerHandle] = []
            var unresolved: [ProbeReportRow] = []
            for entry in backend.servers {
                switch entry.target {
                case let .address(endpoint):
                    if let address = try? SocketAddress(ip: endpoint.host, port: endpoint.port) {
                        servers.append(ServerHandle(group: name, address: address, weight: entry.weight))
                    }
                case let .hostname(host, port):
                    do {
                        for address in try await HostResolver.resolve(host, port: port) {
                            servers.append(ServerHandle(group: name, address: address, weight: entry.weight))
                        }
                    } catch {
                        unresolved.append(ProbeReportRow(
                            backend: name, server: "\(host):\(port)", healthy: false, state: "down", latencyMs: nil,
                            jitterMs: nil, successRate: 0, score: 0,
                            error: "cannot resolve: \(error)", probes: 0))
                    }
                }
            }
            let scoreboard = Scoreboard(servers: servers, scoring: backend.scoring, probe: backend.probe)
            var lastResult: [ServerHandle: ProbeResult] = [:]
            var lastError: [ServerHandle: String] = [:]
            for _ in 0..<max(1, count) {
                let results = await probeAll(servers, kind: backend.probe.kind, proxyHeader: backend.probe.proxyHeader,
                                             timeout: backend.probe.timeout,
                                             concurrency: backend.probe.initialConcurrency, loops: loops)
                for (server, result) in results {
                    await scoreboard.recordProbe(server, success: result.success, latency: result.latency,
                                                 error: result.error)
                    lastResult[server] = result
                    if let error = result.error { lastError[server] = error }
                }
            }
            var groupRows: [ProbeReportRow] = []
            for (server, breakdown) in await scoreboard.breakdowns() {
                let answered = lastResult[server]?.success == true
                let healthy = answered && breakdown.healthy
                groupRows.append(ProbeReportRow(
                    backend: name, server: server.address.description, healthy: healthy,
                    state: healthy ? "up" : "down", latencyMs: breakdown.latencyMs.map(rounded),
                    jitterMs: breakdown.jitterMs.map(rounded), successRate: rounded(breakdown.successRate ?? 0),
                    score: rounded(breakdown.total), error: lastError[server],
                    probes: max(1, count)))
            }
            groupRows.sort { ($0.score, $1.server) > ($1.score, $0.server) }
            rows += groupRows + unresolved
        }
        return rows
    }

    /// Three decimals: microseconds for milliseconds, and enough for a score.
    static func rounded(_ value: Double) -> Double {
        (value * 1000).rounded() / 1000
    }

    static func probeAll(_ servers: [ServerHandle], kind: ProbeParameters.Kind, proxyHeader: ProxySendVersion = .off,
                         timeout: Duration, concurrency: Int,
                         loops: EventLoopGroup) async -> [(ServerHandle, ProbeResult)] {
        await withTaskGroup(of: (ServerHandle, ProbeResult).self) { group in
            var pending = servers[...]
            var results: [(ServerHandle, ProbeResult)] = []
            func startNext() {
                guard let server = pending.popFirst() else { return }
                let loop = loops.next()
                group.addTask(executorPreference: loop) {
                    (server, await Prober.probe(server.address, kind: kind, timeout: timeout, proxyHeader: proxyHeader,
                                                on: loop))
                }
            }
            for _ in 0..<max(1, concurrency) { startNext() }
            for await result in group {
                results.append(result)
                startNext()
            }
            return results
        }
    }

    /// True when every group has at least one healthy server.
    public static func everyGroupHealthy(_ rows: [ProbeReportRow], groups: [String]) -> Bool {
        groups.allSatisfy { group in rows.contains { $0.backend == group && $0.healthy } }
    }

    /// The rows as a text table, one server a line: every column but the last padded to its widest cell, two
    /// spaces between columns, no space at either end of a line.
    public static func table(_ rows: [ProbeReportRow]) -> String {
        func ms(_ value: Double?) -> String { value.map { $0.fixed(2) + "ms" } ?? "-" }
        let header = ["BACKEND", "SERVER", "STATE", "LATENCY", "JITTER", "SUCCESS", "SCORE", "WHY DOWN"]
        let body = rows.map { row in
            [row.backend, row.server, row.state, ms(row.latencyMs), ms(row.jitterMs),
             (row.successRate * 100).fixed(0) + "%", row.score.fixed(1),
             row.healthy ? "" : (row.error ?? "")]
        }
        let widths = (0..<header.count).map { column in
            ([header] + body).map { $0[column].count }.max() ?? 0
        }
        return ([header] + body).map { cells in
            let line = cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: max(0, widths[index] - cell.count))
            }.joined(separator: "  ")
            return trimmingSpaces(line)
        }.joined(separator: "\n") + "\n"
    }

    /// `line` without the spaces and tabs at either end (what Foundation's `trimmingCharacters(in: .whitespaces)`
    /// removed: tab and the Unicode space separators), so a row without a reason ends at its score.
    static func trimmingSpaces(_ line: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool {
            scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator
        }
        let scalars = line.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }),
              let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(scalars[first...last])
    }

    /// The rows as a JSON array of objects, laid out for reading.
    public static func json(_ rows: [ProbeReportRow]) -> String {
        JSONValue.array(rows.map(\.json)).prettyText + "\n"
    }
}
