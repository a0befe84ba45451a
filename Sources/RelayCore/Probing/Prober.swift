import RelayIO
import RelayProtocol

/// Active health checks: one function per probe kind, each bounded by a deadline, run on an event loop.
///
/// A probe measures what its kind can see: a TCP probe only the handshake (which the kernel completes
/// even when the application is stuck), an HTTP probe the application's time to answer, a UDP probe
/// the round trip. Real traffic adds what probes cannot see (see `ServerScoreState`).
public enum Prober {
    /// Probes `address` once with `kind`, giving up after `timeout`.
    /// `proxyHeader` starts a TCP or HTTP probe's connection with a PROXY header saying the connection is relayd's
    /// own (`probe.send_proxy`).
    public static func probe(_ address: SocketAddress, kind: ProbeParameters.Kind, timeout: Duration,
                             proxyHeader: ProxySendVersion = .off, on loop: EventLoop) async -> ProbeResult {
        let deadline = EventLoop.now() + timeout.nanosecondsClamped
        let header = proxyHeader.headerVersion.map { ProxyHeader.local($0).encode() }
        do {
            switch kind {
            case .tcp:
                return try await probeTCP(address, timeout: timeout, proxyHeader: header, on: loop)
            case let .http(path, expectStatus):
                return try await probeHTTP(address, path: path, expectStatus: expectStatus, deadline: deadline,
                                           timeout: timeout, proxyHeader: header, on: loop)
            case let .udp(payload):
                return try await probeUDP(address, payload: payload, deadline: deadline, on: loop)
            }
        } catch IOError.timedOut {
            return ProbeResult(success: false, latency: nil, error: "no answer within \(DurationParser.format(timeout))")
        } catch let error as IOError where error.origin.localResource != nil {
            let resource = error.origin.localResource
            return ProbeResult(success: false, latency: nil,
                               error: "relayd could not probe: out of \(resource?.phrase ?? "resources") (\(error))",
                               localShortage: resource)
        } catch {
            return ProbeResult(success: false, latency: nil, error: String(describing: error))
        }
    }

    static func probeTCP(_ address: SocketAddress, timeout: Duration, proxyHeader: [UInt8]? = nil,
                         on loop: EventLoop) async throws -> ProbeResult {
        let start = ContinuousClock.now
        let connection = try await TCPConnection.connect(to: address, on: loop, timeout: timeout)
        let latency = ContinuousClock.now - start
        defer { connection.close() }
        if let proxyHeader { try await connection.write(proxyHeader) }
        return ProbeResult(success: true, latency: latency, error: nil)
    }

    static func probeHTTP(_ address: SocketAddress, path: String, expectStatus: ClosedRange<Int>, deadline: UInt64,
                          timeout: Duration, proxyHeader: [UInt8]? = nil, on loop: EventLoop) async throws
        -> ProbeResult {
        let connection = try await TCPConnection.connect(to: address, on: loop, timeout: timeout)
        defer { connection.close() }
        if let proxyHeader { try await connection.write(proxyHeader) }
        let host = address.isIPv6 ? "[\(address.ip)]" : address.ip
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(address.port)\r\nUser-Agent: relayd-probe\r\n"
            + "Accept: */*\r\nConnection: close\r\n\r\n"
        let start = ContinuousClock.now
        try await connection.write(Array(request.utf8))
        // Read until the status line is complete; that is all a health check needs.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
        defer { buffer.deallocate() }
        var received: [UInt8] = []
        var firstByte: Duration?
        while !received.contains(UInt8(ascii: "\n")), received.count < 1024 {
            let count = try await connection.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(1024 - received.count)]),
                                                  deadline: deadline)
            if count == 0 { break }
            if firstByte == nil { firstByte = ContinuousClock.now - start }
            received += buffer[0..<count]
        }
        guard let latency = firstByte else {
            return ProbeResult(success: false, latency: nil, error: "connection closed before any response")
        }
        guard let status = parseStatus(received) else {
            return ProbeResult(success: false, latency: latency, error: "not an HTTP response")
        }
        if expectStatus.contains(status) {
            return ProbeResult(success: true, latency: latency, error: nil)
        }
        return ProbeResult(success: false, latency: latency,
                           error: "HTTP status \(status), expected \(expectStatus.lowerBound)-\(expectStatus.upperBound)")
    }

    /// The status code of `HTTP/1.x NNN ...`, or nil.
    static func parseStatus(_ bytes: [UInt8]) -> Int? {
        let line = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let code = Int(parts[1]),
              (100...599).contains(code) else { return nil }
        return code
    }

    static func probeUDP(_ address: SocketAddress, payload: [UInt8], deadline: UInt64,
                         on loop: EventLoop) async throws -> ProbeResult {
        let socket = try UDPSocket.connect(to: address, on: loop)
        defer { socket.close() }
        let start = ContinuousClock.now
        try await socket.send(payload, deadline: deadline)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 1)
        defer { buffer.deallocate() }
        _ = try await socket.receive(into: buffer, deadline: deadline)
        return ProbeResult(success: true, latency: ContinuousClock.now - start, error: nil)
    }
}
