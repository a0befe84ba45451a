import RelayIO
import Synchronization

/// Idle keep-alive connections to the servers an HTTP listener forwards to, kept per server and event loop so a
/// request does not pay for a connect: taken most recent first, dropped when the server closed them or they sat
/// longer than `idleTimeout`, at most `perServer` kept for each server.
final class UpstreamCache: Sendable {
    struct Key: Hashable {
        let server: ObjectIdentifier
        let loop: ObjectIdentifier
    }

    struct Idle {
        let connection: TCPConnection
        let since: UInt64
    }

    /// One server's idle connections on one loop; a class, so a request finds its list with one lookup and changes
    /// it in place (a dictionary's in-place accessors allocate a frame for each use). Touched only under its shard's lock.
    final class IdleList: @unchecked Sendable {
        var entries: [Idle] = []
    }

    /// The lists by loop: a loop's requests take and return connections registered on it, so with a table (and a
    /// lock) per loop the loops never wait for each other here.
    final class Shard: Sendable {
        let idle = SanitizerVisibleMutex<[Key: IdleList]>([:])
    }

    private let shards = (0..<16).map { _ in Shard() }

    private func shard(_ loop: EventLoop) -> Shard { shards[loop.index & (shards.count - 1)] }
    let perServer: Int
    let idleTimeout: Duration
    /// Idle longer than this, a connection is checked for a close before it is used (nanoseconds).
    static let checkAfter: UInt64 = 250_000_000

    init(perServer: Int, idleTimeout: Duration) {
        self.perServer = perServer
        self.idleTimeout = idleTimeout
    }

    /// An idle connection to `server` registered on `loop` that still looks open, or nil.
    func take(_ server: ServerHandle, on loop: EventLoop) -> TCPConnection? {
        let key = Key(server: ObjectIdentifier(server), loop: ObjectIdentifier(loop))
        let now = EventLoop.now()
        let limit = UInt64(idleTimeout.nanosecondsClamped)
        while true {
            let candidate: Idle? = shard(loop).idle.withLock { table in table[key]?.entries.popLast() }
            guard let candidate else { return nil }
            // A server that closed it, or sent something unasked (bytes or an end of stream), cannot take a request.
            // Checked only after a quiet spell: servers close idle connections after seconds, and the two system
            // calls would cost every request on a busy connection; a connection closed in the window shows as an
            // end of stream before any answer, and the request goes again on a fresh one.
            let idle = now &- candidate.since
            if idle > limit
                || (idle > Self.checkAfter && (candidate.connection.hasPendingInput() || candidate.connection.peerFinished())) {
                candidate.connection.close()
                continue
            }
            return candidate.connection
        }
    }

    /// Keeps `connection` for the next request to `server`; closes it when the server has `perServer` already.
    func put(_ connection: TCPConnection, server: ServerHandle, on loop: EventLoop) {
        let key = Key(server: ObjectIdentifier(server), loop: ObjectIdentifier(loop))
        let now = EventLoop.now()
        let limit = UInt64(idleTimeout.nanosecondsClamped)
        var expired: [TCPConnection] = []
        let perServer = perServer
        let kept = shard(loop).idle.withLock { table -> Bool in
            let list: IdleList
            if let existing = table[key] {
                list = existing
            } else {
                list = IdleList()
                table[key] = list
            }
            while let oldest = list.entries.first, now &- oldest.since > limit {
                expired.append(oldest.connection)
                list.entries.removeFirst()
            }
            guard list.entries.count < perServer else { return false }
            list.entries.append(Idle(connection: connection, since: now))
            return true
        }
        for stale in expired { stale.close() }
        if !kept { connection.close() }
    }

    /// Closes every idle connection (listener stopped or replaced).
    func closeAll() {
        let all = shards.flatMap { shard in
            shard.idle.withLock { table -> [Idle] in
                defer { table.removeAll() }
                return table.values.flatMap { $0.entries }
            }
        }
        for entry in all { entry.connection.close() }
    }
}
