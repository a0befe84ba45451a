import RelayIO
import RelayProtocol

/// relayd's own small HTTP/1.1 client, for etcd's JSON gateway: POSTs a JSON body and returns the whole reply.
///
/// One keep-alive connection at a time (the cluster manager makes one call after another). Each call has a
/// deadline covering connect, write and read; replies are bounded by `limits` (a 4 MiB body by default) and
/// may be framed by Content-Length, chunked, or the server closing. A call on a reused connection that fails
/// before any reply byte arrived is tried once more on a fresh one (the server may have closed an idle
/// connection). When an endpoint cannot be reached the next one is tried, and the client stays on the one that
/// answered.
final class HTTPClient: Sendable {
    /// The endpoints in the order they are tried, and which one is in use.
    private let endpoints: SanitizerVisibleMutex<(list: [SocketAddress], current: Int)>
    /// The idle keep-alive connection and the endpoint it goes to.
    private let idle = SanitizerVisibleMutex<(TCPConnection, SocketAddress)?>(nil)
    /// Where connections run.
    let loop: EventLoop
    /// Bounds on what a reply may make the client hold.
    let parser: HTTPResponseParser

    init(endpoints: [SocketAddress], loop: EventLoop,
         limits: HTTPLimits = HTTPLimits(maxHeaderBytes: 16 * 1024, maxBodyBytes: 4 << 20)) {
        self.endpoints = SanitizerVisibleMutex((endpoints, 0))
        self.loop = loop
        self.parser = HTTPResponseParser(limits: limits)
    }

    deinit {
        idle.withLock { $0?.0.close() }
    }

    /// Replaces the endpoints (config reload); the idle connection is closed if its endpoint went away.
    func setEndpoints(_ list: [SocketAddress]) {
        endpoints.withLock { $0 = (list, 0) }
        let stale = idle.withLock { slot -> TCPConnection? in
            guard let (connection, address) = slot, !list.contains(address) else { return nil }
            slot = nil
            return connection
        }
        stale?.close()
    }

    /// Closes the idle connection.
    func close() {
        idle.withLock { slot in
            slot?.0.close()
            slot = nil
        }
    }

    /// POSTs `body` (JSON) to `path` and returns the reply, whatever its status; within `timeout` in all.
    func post(_ path: String, body: String, timeout: Duration) async throws(EtcdError) -> HTTPClientResponse {
        let deadline = EventLoop.now() + timeout.nanosecondsClamped
        let (list, start) = endpoints.withLock { $0 }
        guard !list.isEmpty else { throw .unreachable("no endpoint configured") }
        var failures: [String] = []
        for offset in 0..<list.count {
            let index = (start + offset) % list.count
            let address = list[index]
            // A reused connection may have been closed by the server while idle: one more try on a fresh one.
            for attempt in 0..<2 {
                let reused = attempt == 0 ? takeIdle(for: address) : nil
                if attempt == 1, failures.last?.hasPrefix("reused") != true { break }
                let connection: TCPConnection
                if let reused {
                    connection = reused
                } else {
                    do {
                        let remaining = Duration.nanoseconds(Int64(clamping: deadline &- min(deadline, EventLoop.now())))
                        guard remaining > .zero else { throw IOError.timedOut }
                        connection = try await TCPConnection.connect(to: address, on: loop, timeout: remaining,
                                                                     options: .backend)
                    } catch {
                        failures.append("\(address): connect: \(error)")
                        break
                    }
                }
                do {
                    let response = try await exchange(on: connection, address: address, path: path, body: body,
                                                      deadline: deadline)
                    endpoints.withLock { $0.current = index }
                    if response.keepAlive {
                        let previous = idle.withLock { slot in
                            defer { slot = (connection, address) }
                            return slot?.0
                        }
                        previous?.close()
                    } else {
                        connection.close()
                    }
                    return response
                } catch let error as ExchangeError {
                    connection.close()
                    switch error {
                    case .beforeReply(let reason) where reused != nil:
                        failures.append("reused \(address): \(reason)")
                        continue
                    case .beforeReply(let reason), .duringReply(let reason):
                        failures.append("\(address): \(reason)")
                    case .badReply(let reason):
                        throw .malformed("\(address): \(reason)")
                    }
                } catch {
                    connection.close()
                    failures.append("\(address): \(error)")
                }
                break
            }
            if EventLoop.now() >= deadline { break }
        }
        throw .unreachable(failures.joined(separator: "; "))
    }

    private func takeIdle(for address: SocketAddress) -> TCPConnection? {
        let taken = idle.withLock { slot -> (TCPConnection, SocketAddress)? in
            defer { slot = nil }
            return slot
        }
        guard let (connection, idleAddress) = taken else { return nil }
        guard idleAddress == address, !connection.hasPendingInput() else {
            connection.close()
            return nil
        }
        return connection
    }

    /// How one request/reply exchange failed.
    private enum ExchangeError: Error {
        /// Nothing of the reply arrived (the write failed, or the connection closed first): safe to retry.
        case beforeReply(String)
        /// The reply was cut short or timed out.
        case duringReply(String)
        /// The reply is not HTTP/1.1 or breaks a limit.
        case badReply(String)
    }

    private func exchange(on connection: TCPConnection, address: SocketAddress, path: String, body: String,
                          deadline: UInt64) async throws -> HTTPClientResponse {
        let payload = Array(body.utf8)
        let head = "POST \(path) HTTP/1.1\r\nHost: \(address)\r\nUser-Agent: relayd\r\n"
            + "Content-Type: application/json\r\nContent-Length: \(payload.count)\r\n\r\n"
        let request = Array(head.utf8) + payload
        do {
            let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: request.count, alignment: 1)
            defer { bytes.deallocate() }
            bytes.copyBytes(from: request)
            try await connection.write(UnsafeRawBufferPointer(bytes), deadline: deadline)
        } catch {
            throw ExchangeError.beforeReply("write: \(error)")
        }
        var received: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            let count: Int
            do {
                count = try await connection.read(into: buffer, deadline: deadline)
            } catch IOError.timedOut {
                throw received.isEmpty ? ExchangeError.beforeReply("no reply before the deadline")
                                       : ExchangeError.duringReply("the reply did not complete before the deadline")
            } catch {
                throw received.isEmpty ? ExchangeError.beforeReply("read: \(error)")
                                       : ExchangeError.duringReply("read: \(error)")
            }
            if count == 0 && received.isEmpty { throw ExchangeError.beforeReply("closed without replying") }
            received += buffer[0..<count]
            do {
                if let (response, used) = try parser.parse(received, atEnd: count == 0) {
                    // Bytes after the reply are a protocol error for a client that sent one request.
                    var reply = response
                    if used != received.count { reply.keepAlive = false }
                    return reply
                }
            } catch {
                throw count == 0 ? ExchangeError.duringReply(error.reason) : ExchangeError.badReply(error.description)
            }
        }
    }
}
