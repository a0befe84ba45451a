import RelayIO

/// The flows of one listening socket, by client address. Touched by that socket's receive task and by
/// the flows' reply tasks, all on one event loop; the lock is uncontended.
final class FlowTable: Sendable {
    private let flows = SanitizerVisibleMutex<[SocketAddress: UDPFlow]>([:])

    func lookup(_ client: SocketAddress) -> UDPFlow? {
        flows.withLock { $0[client] }
    }

    func insert(_ flow: UDPFlow) {
        flows.withLock { $0[flow.client] = flow }
    }

    /// Removes `flow` if it is still the client's current flow.
    func remove(_ flow: UDPFlow) {
        flows.withLock { table in
            if table[flow.client] === flow { table[flow.client] = nil }
        }
    }

    /// Closes every flow in the table, for `reason` (its loop is ending): their reply tasks wake and end.
    func closeAll(_ reason: UDPFlow.End) {
        let open = flows.withLock { Array($0.values) }
        for flow in open { flow.close(reason) }
    }
}
