#if canImport(Glibc)
import Glibc
#endif

/// The accepted connections of a `TCPListener`.
public struct AcceptSequence: AsyncSequence, Sendable {
    public typealias Element = AcceptedSocket
    let listener: TCPListener
    let backoff: AcceptBackoff
    let onShortage: @Sendable (IOError, Duration) -> Void

    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let sequence: AcceptSequence
        var delay: Duration?

        public mutating func next() async throws -> AcceptedSocket? {
            let listener = sequence.listener
            while true {
                if listener.registration.isAborted { return nil }
                let result: IOResult<AcceptedSocket>
                do {
                    result = try listener.acceptNow()
                } catch {
                    if error.errno == ECONNABORTED || error.errno == EPROTO {
                        continue  // the client gave up before we accepted it; not our failure
                    }
                    guard error.isTransientResourceShortage else { throw error }
                    let wait = delay.map { Swift.min($0 * 2, sequence.backoff.maximum) } ?? sequence.backoff.initial
                    delay = wait
                    sequence.onShortage(error, wait)
                    try await listener.loop.sleep(for: wait)
                    continue
                }
                switch result {
                case let .processed(socket):
                    delay = nil
                    return socket
                case .wouldBlock:
                    do {
                        try await listener.registration.wait(for: .read)
                    } catch IOError.closed {
                        return nil
                    }
                }
            }
        }
    }
}
