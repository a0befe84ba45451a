import RelayIO
import RelayProtocol

/// Reads the PROXY protocol header a trusted proxy sends first on a client connection (`accept_proxy`).
///
/// The header is peeked until it is whole (`PeekedPrefix`), and only then taken from the socket, exactly its
/// length (as HAProxy does): the client's own bytes after it stay in the socket for the relay, so nothing is
/// carried over. The relay must then read before it waits, since the socket's read edge was spent here.
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
    @inline(never)
    static func read(from client: TCPConnection, optional: Bool, deadline: UInt64, pool: BufferPool) async -> Outcome {
        let limit = ProxyAcceptConfig.maximumHeaderLength
        let result = await PeekedPrefix.read(from: client, limit: limit, deadline: deadline, pool: pool) {
            bytes, buffer -> Outcome? in
            switch ProxyHeader.parse(bytes, maximumLength: limit) {
            case let .header(parsed, length):
                // Take exactly the header: the peek showed these bytes are there.
                let part = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length])
                guard case .processed(length)? = try? client.readNow(into: part) else {
                    return .refused("the PROXY header could not be taken from the socket")
                }
                return .header(parsed)
            case .needMore:
                return nil
            case .notProxy:
                return optional ? .absent : .refused("the connection does not start with a PROXY header")
            case let .invalid(reason):
                return .refused("malformed PROXY header: \(reason)")
            }
        }
        switch result {
        case let .success(outcome):
            return outcome
        case let .failure(failure):
            switch failure.ending {
            case .closed: return .closed
            case .cancelled: return .cancelled
            case let .timedOut(sawBytes):
                // Without a byte an optional header is absent; a header begun and not finished, or a required one,
                // refuses the connection.
                return optional && !sawBytes ? .absent : .refused("no whole PROXY header before the deadline")
            }
        }
    }
}
