import RelayIO

/// A multipath client's local flows: each local application (source address) gets a flow id, which its DATA
/// frames carry, so the server keeps one backend socket per application and the replies find their way back.
///
/// Owned by one listener and touched by its receive loops between awaits; the lock is uncontended. Ids count
/// up from 1 and are not reused while the process runs, so a late reply for an expired flow is dropped rather than
/// delivered to the application that took its place.
final class MultipathClientFlows: Sendable {
    /// One local application.
    struct Flow {
        var address: SocketAddress
        var lastSeen: UInt64
    }

    private struct Table {
        var ids: [SocketAddress: UInt32] = [:]
        var flows: [UInt32: Flow] = [:]
        var nextID: UInt32 = 1
    }

    private let table = SanitizerVisibleMutex(Table())
    /// At most this many flows at once (`max_flows`).
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    /// The flow id of `address`, opening a flow when it has none (`opened`); nil at the limit.
    func id(for address: SocketAddress, now: UInt64) -> (id: UInt32, opened: Bool)? {
        table.withLock { table in
            if let id = table.ids[address] {
                table.flows[id]?.lastSeen = now
                return (id, false)
            }
            guard table.flows.count < limit else { return nil }
            let id = table.nextID
            table.nextID = table.nextID == .max ? 1 : table.nextID + 1
            table.ids[address] = id
            table.flows[id] = Flow(address: address, lastSeen: now)
            return (id, true)
        }
    }

    /// Where flow `id`'s replies go, if it is open; a reply keeps it alive.
    func address(of id: UInt32, now: UInt64) -> SocketAddress? {
        table.withLock { table in
            table.flows[id]?.lastSeen = now
            return table.flows[id]?.address
        }
    }

    /// Forgets the flows with no datagram either way since `now − idle`; returns how many.
    @discardableResult
    func expire(now: UInt64, idle: UInt64) -> Int {
        table.withLock { table in
            let expired = table.flows.filter { now &- $0.value.lastSeen >= idle && now >= $0.value.lastSeen }
            for (id, flow) in expired {
                table.flows[id] = nil
                table.ids[flow.address] = nil
            }
            return expired.count
        }
    }

    /// Flows open now.
    var count: Int { table.withLock { $0.flows.count } }
}
