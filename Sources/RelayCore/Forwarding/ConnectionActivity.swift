import RelayIO
import Synchronization

/// What one relayed TCP connection has moved so far, and the timeouts it lives under.
///
/// The pumps bump `up` and `down` once per chunk (a relaxed add on the connection's own counters: no clock
/// read, no syscall, no allocation); when the connection is due in its listener's `TimeoutSchedule`, `look`
/// compares them with what it saw before (`ConnectionTimeouts`) and, when a timeout passed, the listener
/// calls `expire`, which wakes both sockets so the relay ends and closes them without a reset: both peers
/// see an orderly end of stream.
public final class ConnectionActivity: Sendable {
    /// Chunks relayed client → server.
    let up = Atomic<UInt64>(0)
    /// Chunks relayed server → client.
    let down = Atomic<UInt64>(0)
    /// When the connection was accepted (monotonic ns).
    let accepted: UInt64
    /// The timeouts in force when the connection was accepted (a reload applies to new connections).
    let timeouts: ConnectionTimeouts
    /// What the listener saw at its last look that found the counts changed (`ConnectionTimeouts.Watch`), and
    /// when it looks next; touched only by the listener's sweep, under its tracker's lock.
    private let watchedChunks = Atomic<UInt64>(0)
    private let watchedSince: Atomic<UInt64>
    let nextCheck = Atomic<UInt64>(0)
    /// The timeout that ended the connection (`ConnectionEnd.code`), 0 while none has.
    private let expiredBy = Atomic<UInt8>(0)
    /// The connection's sockets, woken by `expire`.
    private let sockets = SanitizerVisibleMutex<[TCPConnection]>([])

    init(accepted: UInt64, timeouts: ConnectionTimeouts) {
        self.accepted = accepted
        self.timeouts = timeouts
        self.watchedSince = Atomic(accepted)
    }

    /// One timeout look at this connection (see `ConnectionTimeouts.check`).
    func look(now: UInt64) -> ConnectionTimeouts.Decision {
        let before = ConnectionTimeouts.Watch(chunks: watchedChunks.load(ordering: .relaxed),
                                              since: watchedSince.load(ordering: .relaxed))
        var watch = before
        let decision = timeouts.check(now: now, accepted: accepted, up: up.load(ordering: .relaxed),
                                      down: down.load(ordering: .relaxed), watch: &watch) {
            clientHasPendingInput()
        }
        if watch != before {
            watchedChunks.store(watch.chunks, ordering: .relaxed)
            watchedSince.store(watch.since, ordering: .relaxed)
        }
        return decision
    }

    /// Counts one chunk relayed in `direction`.
    @inline(__always)
    func moved(_ direction: RelayDirection) {
        switch direction {
        case .upstream: up.add(1, ordering: .relaxed)
        case .downstream: down.add(1, ordering: .relaxed)
        }
    }

    /// The timeout that ended the connection, if one did.
    var expiry: ConnectionEnd? {
        switch expiredBy.load(ordering: .acquiring) {
        case ConnectionEnd.idle.code: .idle
        case ConnectionEnd.clientTimeout.code: .clientTimeout
        default: nil
        }
    }

    /// Adds a socket to wake on expiry; wakes it at once when the connection already expired.
    func watch(_ socket: TCPConnection) {
        let expired = sockets.withLock { sockets -> Bool in
            if expiredBy.load(ordering: .acquiring) != 0 { return true }
            sockets.append(socket)
            return false
        }
        if expired { socket.abort() }
    }

    /// Stops watching the sockets; call before closing them, so no sweep peeks at a closed fd's number.
    func release() {
        sockets.withLock { $0.removeAll() }
    }

    /// Whether the client's bytes wait in its socket though the relay has not read them yet (it is still
    /// connecting to a server): a peek at the first socket watched, the client's.
    func clientHasPendingInput() -> Bool {
        sockets.withLock { sockets in sockets.first?.hasPendingInput() ?? false }
    }

    /// Ends the connection for `reason` (the first reason wins): its pumps wake and stop, and the listener
    /// closes both sockets.
    func expire(_ reason: ConnectionEnd) {
        let sockets = sockets.withLock { sockets -> [TCPConnection] in
            guard expiredBy.compareExchange(expected: 0, desired: reason.code, ordering: .acquiringAndReleasing)
                .exchanged else { return [] }
            defer { sockets.removeAll() }
            return sockets
        }
        for socket in sockets { socket.abort() }
    }
}
