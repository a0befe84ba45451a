import RelayIO

/// One finished connection or expired UDP flow, as the access log records it.
public struct AccessLogEntry: Sendable {
    /// The listener that accepted it.
    public var listener: String
    /// `tcp` or `udp`.
    public var proto: String
    /// The client's address.
    public var client: SocketAddress
    /// The server it was relayed to; nil when none was reached (or for an echo listener).
    public var server: SocketAddress?
    /// Bytes received from the client.
    public var bytesIn: Int
    /// Bytes sent to the client.
    public var bytesOut: Int
    /// From accept (or the flow's first datagram) to close.
    public var duration: Duration
    /// How it ended: `closed` (both sides finished), `error`, `cancelled` (drain timeout or shutdown),
    /// `no_backend` (no server accepted), and for flows `idle`, `responses`, `unreachable`, `shutdown`.
    public var end: String
    /// What failed, when `end` is `error` or `no_backend`.
    public var error: String?
    /// The route that chose the server (`routes`; `default` for the listener's own backend), on listeners with
    /// routes.
    public var route: String?
    /// More fields after the common ones (an http listener's method, path, host, status and timings).
    public var extra: [(String, String)] = []

    public init(listener: String, proto: String, client: SocketAddress, server: SocketAddress?, bytesIn: Int,
                bytesOut: Int, duration: Duration, end: String, error: String? = nil) {
        self.listener = listener
        self.proto = proto
        self.client = client
        self.server = server
        self.bytesIn = bytesIn
        self.bytesOut = bytesOut
        self.duration = duration
        self.end = end
        self.error = error
    }

    /// The line's fields, in order.
    var fields: [(String, String)] {
        var fields: [(String, String)] = [
            ("listener", listener), ("proto", proto), ("client", client.description),
            ("server", server?.description ?? "-"), ("bytes_in", String(bytesIn)), ("bytes_out", String(bytesOut)),
            ("duration_ms", String(format3(Double(duration.nanosecondsClamped) / 1e6))), ("end", end),
        ]
        if let route { fields.insert(("route", route), at: 4) }
        fields.append(contentsOf: extra)
        if let error { fields.append(("error", error)) }
        return fields
    }

    private func format3(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let whole = thousandths / 1000
        let fraction = thousandths % 1000
        return fraction == 0 ? String(whole) : "\(whole)." + String(String(fraction + 1000).dropFirst())
    }
}
