import RelayProtocol

/// The value of `PREFIX/scores/GROUP` in etcd mode: the leader's id, its term, and the scores of the group's
/// servers, as JSON (the same fields the static heartbeat carries in binary).
public struct EtcdScorePublication: Sendable, Equatable {
    /// The leadership term the scores were published in; followers ignore older ones.
    public var term: UInt64
    /// The node that published them.
    public var leader: String
    /// The group and its servers' scores.
    public var scores: ClusterGroupScores

    public init(term: UInt64, leader: String, scores: ClusterGroupScores) {
        self.term = term
        self.leader = leader
        self.scores = scores
    }

    /// The JSON bytes stored in etcd.
    public func encoded() -> [UInt8] {
        let servers: [JSONValue] = scores.servers.map { server in
            var members: [(String, JSONValue)] = [
                ("address", .string(server.address)), ("healthy", .bool(server.healthy)),
                ("measured", .bool(server.measured)), ("total", .number(server.total)),
                ("latency", .number(server.latency)), ("jitter", .number(server.jitter)),
                ("success", .number(server.success)), ("penalty", .number(server.penalty)),
                ("bonus", .number(server.bonus)),
                ("consecutive_failures", .number(server.consecutiveFailures)),
                ("consecutive_successes", .number(server.consecutiveSuccesses)),
                ("probes", .string(String(server.probes))),
            ]
            if let value = server.latencyMs { members.append(("latency_ms", .number(value))) }
            if let value = server.jitterMs { members.append(("jitter_ms", .number(value))) }
            if let value = server.successRate { members.append(("success_rate", .number(value))) }
            if let value = server.downReason { members.append(("down_reason", .string(value))) }
            if let value = server.lastError { members.append(("last_error", .string(value))) }
            return .object(members)
        }
        let body: JSONValue = .object([("term", .string(String(term))), ("leader", .string(leader)),
                                       ("group", .string(scores.group)), ("servers", .array(servers))])
        return Array(body.text.utf8)
    }

    /// Reads a stored value; what is not a publication is `EtcdError.malformed`.
    public static func decode(_ bytes: [UInt8]) throws(EtcdError) -> EtcdScorePublication {
        let root = try EtcdGateway.object(bytes)
        guard let term = try EtcdGateway.integer(root, "term"), term > 0 else { throw .malformed("no term") }
        guard case .string(let leader)? = EtcdGateway.member(root, "leader"),
              case .string(let group)? = EtcdGateway.member(root, "group"),
              case .array(let list)? = EtcdGateway.member(root, "servers")
        else {
            throw .malformed("a publication without leader, group or servers")
        }
        var servers: [ClusterServerScore] = []
        for item in list {
            guard case .object(let fields) = item, case .string(let address)? = EtcdGateway.member(fields, "address")
            else {
                throw .malformed("a server without an address")
            }
            func number(_ key: String) -> Double? {
                if case .number(let value)? = EtcdGateway.member(fields, key), value.isFinite { return value }
                return nil
            }
            func flag(_ key: String) -> Bool {
                if case .bool(let value)? = EtcdGateway.member(fields, key) { return value }
                return false
            }
            func text(_ key: String) -> String? {
                if case .string(let value)? = EtcdGateway.member(fields, key) { return value }
                return nil
            }
            servers.append(ClusterServerScore(
                address: address, healthy: flag("healthy"), measured: flag("measured"), total: number("total") ?? 0,
                latency: number("latency") ?? 0, jitter: number("jitter") ?? 0, success: number("success") ?? 0,
                penalty: number("penalty") ?? 0, bonus: number("bonus") ?? 0, latencyMs: number("latency_ms"),
                jitterMs: number("jitter_ms"), successRate: number("success_rate"),
                consecutiveFailures: Int(clamping: Int64(exactly: number("consecutive_failures") ?? 0) ?? 0),
                consecutiveSuccesses: Int(clamping: Int64(exactly: number("consecutive_successes") ?? 0) ?? 0),
                probes: UInt64(clamping: try EtcdGateway.integer(fields, "probes") ?? 0),
                downReason: text("down_reason"), lastError: text("last_error")))
        }
        return EtcdScorePublication(term: UInt64(term), leader: leader,
                                    scores: ClusterGroupScores(group: group, servers: servers))
    }
}
