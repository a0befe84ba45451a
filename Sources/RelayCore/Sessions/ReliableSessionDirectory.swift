import RelayIO

/// Every reliable-UDP session of one listener by session id, whichever event loop owns it.
///
/// Each loop finds its own sessions in its own table; this directory is consulted only on a miss there: a
/// session packet whose client moved (NAT rebinding) arrives on another loop, since `SO_REUSEPORT` hashes the
/// new address to another socket, and that loop looks the session up here and handles the packet under the
/// session's lock (replies still leave from the listener's address).
/// The repeated-RESPONSE check of the handshake also looks here. One lock, taken on a miss, never per packet of
/// a session that stays put.
final class ReliableSessionDirectory: Sendable {
    private let sessions = SanitizerVisibleMutex<[UInt64: ReliableUDPSession]>([:])

    /// The session with `id`, if one of the listener's loops holds it.
    func lookup(_ id: UInt64) -> ReliableUDPSession? {
        sessions.withLock { $0[id] }
    }

    /// Adds `session`; false (adding nothing) when its id is already taken.
    func insert(_ session: ReliableUDPSession) -> Bool {
        sessions.withLock { table in
            guard table[session.id] == nil else { return false }
            table[session.id] = session
            return true
        }
    }

    /// Removes `session` if it is the one held under its id.
    func remove(_ session: ReliableUDPSession) {
        sessions.withLock { table in
            if table[session.id] === session { table[session.id] = nil }
        }
    }

    /// Sessions held now.
    var count: Int { sessions.withLock { $0.count } }
}
