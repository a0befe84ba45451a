import RelayIO
import RelayProtocol

/// Reads the PROXY protocol header a trusted proxy sends first on a client connection (`accept_proxy`).
///
/// The header is read with `MSG_PEEK` until it is whole, and only then taken from the socket, exactly its length
/// (as HAProxy does): the client's own bytes after it stay in the socket for the relay, so nothing is carried
/// over. The relay must then read before it waits, since the socket's read edge was spent here.
enum ProxyHeaderReader {
    enum Outcome {
        /// A header: its addresses replace the connection's for everything after.
        case header(ProxyHeader)
        /// No header, and none was required (`optional`).
        case absent
        /// The client closed before sending a whole header.
        case closed
        /// The connection must be closed: the reason for the logs.
        case refused(String)
        /// Cancelled (drain, shutdown) or aborted by a timeout sweep.
        case cancelled
    }

    /// Waits until the header is whole (or the bytes show there is none), at most until `deadline`.
    static func read(from client: TCPConnection, optional: Bool, deadline: UInt64, pool: BufferPool) async -> Outcome {
        var seen = -1
        while true {
            switch step(client, optional: optional, pool: pool, seen: &seen) {
            case let .done(outcome):
                return outcome
            case .wait:
                do {
                    try await client.waitReadable(deadline: deadline)
                } catch let error as IOError {
                    if case .timedOut = error { return timedOut(client, optional: optional) }
                    return .cancelled
                } catch {
                    return .cancelled
                }
            }
        }
    }

    enum Step {
        case done(Outcome)
        case wait
    }

    /// One look at the bytes waiting in the socket; `seen` is how many the last look saw (-1 before the first).
    @inline(never)
    static func step(_ client: TCPConnection, optional: Bool, pool: BufferPool, seen: inout Int) -> Step {
        let buffer = pool.take()
        defer { pool.release(buffer) }
        let limit = min(buffer.count, ProxyAcceptConfig.maximumHeaderLength)
        let window = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<limit])
        let count: Int
        do {
            switch try client.peekNow(into: window) {
            case .wouldBlock: return .wait
            case let .processed(peeked): count = peeked
            }
        } catch {
            // A reset or a failed socket: the client's side ended, whatever it was sending.
            return .done(.closed)
        }
        if count == 0 { return .done(.closed) }
        let bytes = Array(window[0..<count])
        switch ProxyHeader.parse(bytes, maximumLength: ProxyAcceptConfig.maximumHeaderLength) {
        case let .header(parsed, length):
            // Take exactly the header: the peek showed these bytes are there.
            let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
            guard case .processed(length)? = try? client.readNow(into: part) else {
                return .done(.refused("the PROXY header could not be taken from the socket"))
            }
            return .done(.header(parsed))
        case .needMore:
            // A wake with nothing new: the peer finished (a peek cannot see the end of stream behind data), or
            // the wake was an edge already latched before the last look.
            if count == seen, client.peerFinished() { return .done(.closed) }
            seen = count
            return .wait
        case .notProxy:
            return .done(optional ? .absent : .refused("the connection does not start with a PROXY header"))
        case let .invalid(reason):
            return .done(.refused("malformed PROXY header: \(reason)"))
        }
    }

    /// The deadline passed: without a byte an optional header is absent; a header begun and not finished, or a
    /// required one, refuses the connection.
    private static func timedOut(_ client: TCPConnection, optional: Bool) -> Outcome {
        if optional, !client.hasPendingInput() { return .absent }
        return .refused("no whole PROXY header before the deadline")
    }
}
