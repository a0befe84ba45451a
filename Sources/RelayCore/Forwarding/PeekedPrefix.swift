import RelayIO

/// Waits for the first bytes of a client connection to say what they are (a PROXY header, a TLS ClientHello),
/// looking at them with `MSG_PEEK` so they stay in the socket: nothing is consumed unless the caller decides to.
///
/// Each look hands `decide` every byte waiting (up to `limit`); it answers with a result, or nil for "more".
/// A wake that brings nothing new is the peer's end of stream (a peek cannot see it behind data), or an edge
/// latched before the last look.
enum PeekedPrefix {
    enum Ending {
        /// The client closed (or reset) before the bytes decided.
        case closed
        /// `deadline` passed; `sawBytes` says whether anything had arrived.
        case timedOut(sawBytes: Bool)
        /// Cancelled (drain, shutdown) or aborted by a timeout sweep.
        case cancelled
    }

    static func read<Result>(from client: TCPConnection, limit: Int, deadline: UInt64, pool: BufferPool,
                             decide: ([UInt8], UnsafeMutableRawBufferPointer) -> Result?) async
        -> Swift.Result<Result, EndingError>
    {
        var seen = -1
        while true {
            switch look(client, limit: limit, pool: pool, seen: &seen, decide: decide) {
            case let .decided(result):
                return .success(result)
            case let .ended(ending):
                return .failure(EndingError(ending: ending))
            case .wait:
                do {
                    try await client.waitReadable(deadline: deadline)
                } catch let error as IOError {
                    if case .timedOut = error { return .failure(EndingError(ending: .timedOut(sawBytes: seen > 0))) }
                    return .failure(EndingError(ending: .cancelled))
                } catch {
                    return .failure(EndingError(ending: .cancelled))
                }
            }
        }
    }

    /// `Ending` as an `Error`, for `Result`.
    struct EndingError: Error {
        let ending: Ending
    }

    enum Look<Result> {
        case decided(Result)
        case ended(Ending)
        case wait
    }

    /// One look at the bytes waiting in the socket; `decide` also gets the pooled buffer holding them, to read
    /// the decided part into.
    @inline(never)
    static func look<Result>(_ client: TCPConnection, limit: Int, pool: BufferPool, seen: inout Int,
                             decide: ([UInt8], UnsafeMutableRawBufferPointer) -> Result?) -> Look<Result> {
        let buffer = pool.take()
        defer { pool.release(buffer) }
        let window = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<min(buffer.count, limit)])
        let count: Int
        do {
            switch try client.peekNow(into: window) {
            case .wouldBlock: return .wait
            case let .processed(peeked): count = peeked
            }
        } catch {
            return .ended(.closed)
        }
        if count == 0 { return .ended(.closed) }
        if let result = decide(Array(window[0..<count]), buffer) { return .decided(result) }
        if count == seen, client.peerFinished() { return .ended(.closed) }
        seen = count
        return .wait
    }
}
