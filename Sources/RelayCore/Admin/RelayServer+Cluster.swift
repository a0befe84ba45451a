import RelayProtocol

/// `GET /cluster`: the cluster as this node sees it, from the published snapshot.
extension RelayServer {
    func clusterJSON() -> JSONValue {
        let snapshot = cluster.current
        let members: [JSONValue] = snapshot.members.map { member in
            .object([("node_id", .string(member.nodeID)), ("address", .optional(member.address)),
                     ("alive", .bool(member.alive)), ("last_seen_ms", member.lastSeenMs.map { .number($0) } ?? .null)])
        }
        return .object([
            ("node_id", snapshot.mode == .off ? .null : .string(snapshot.nodeID)),
            ("mode", .string(snapshot.mode.rawValue)),
            ("leader", .optional(snapshot.leader)),
            ("is_leader", .bool(snapshot.isLeader)),
            ("term", .int(Int64(clamping: snapshot.term))),
            ("members", .array(members)),
            ("probing_locally", .bool(snapshot.probesLocally)),
        ])
    }
}
