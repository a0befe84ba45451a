/// A listener's `rate_limit` section: token buckets on new connections, flows and datagrams.
///
/// Every part is optional and an absent part limits nothing, so the default (`{}` or no section) is no limit
/// at all. Each part is `{ rate, interval, burst }`: `rate` tokens come back every `interval`, a bucket holds
/// at most `burst` (default: `rate`), and every admission takes one.
public struct RateLimitConfig: Sendable, Equatable {
    /// New TCP connections, UDP flows (and reliable-UDP handshakes) from one client IP (`per_ip`): one
    /// client cannot open connections faster than this, whatever else is going on.
    public var perIP: RateLimit?
    /// New connections, flows or handshakes from all clients together (`total`): what the listener takes on
    /// per interval however many addresses the clients come from (spoofed sources included).
    public var total: RateLimit?
    /// Datagrams from one client IP on a UDP listener (`packets_per_ip`), checked before any other work on
    /// a datagram; a TCP listener has no datagrams, and refuses the key.
    public var packetsPerIP: RateLimit?

    /// No limit at all.
    public static let none = RateLimitConfig()

    public init(perIP: RateLimit? = nil, total: RateLimit? = nil, packetsPerIP: RateLimit? = nil) {
        self.perIP = perIP
        self.total = total
        self.packetsPerIP = packetsPerIP
    }

    /// The rule of `scope`, if any.
    public subscript(scope: RateLimitScope) -> RateLimit? {
        switch scope {
        case .perIP: perIP
        case .total: total
        case .packetsPerIP: packetsPerIP
        }
    }

    /// Whether any part limits anything.
    public var isEnabled: Bool { perIP != nil || total != nil || packetsPerIP != nil }

    /// Reads a `rate_limit` object. `datagrams` is false for a listener that has none (TCP), where
    /// `packets_per_ip` is an error that says why.
    static func read(from node: ConfigReader, datagrams: Bool) -> RateLimitConfig? {
        node.object { fields in
            var config = RateLimitConfig()
            fields.read("per_ip", into: &config.perIP) { readRule($0) }
            fields.read("total", into: &config.total) { readRule($0) }
            if !datagrams, fields.optional("packets_per_ip") != nil {
                fields.reject("packets_per_ip", "only UDP listeners take `packets_per_ip`, which limits datagrams; "
                              + "a TCP listener's new connections are limited by `per_ip` and `total`")
            } else {
                fields.read("packets_per_ip", into: &config.packetsPerIP) { readRule($0) }
            }
            return fields.isValid ? config : nil
        }
    }

    /// Reads one `{ rate, interval, burst }` rule; `rate` and `interval` are required, `burst` defaults to `rate`.
    static func readRule(_ node: ConfigReader) -> RateLimit? {
        node.object { fields in
            let rate = fields.required("rate", "tokens given back every `interval`, such as 50") {
                $0.integer(in: 1...RateLimit.maxRate)
            }
            let interval = fields.required("interval", "the period `rate` is counted over, such as \"1s\"") {
                readInterval(from: $0)
            }
            var burst: Int?
            fields.read("burst", into: &burst) { $0.integer(in: 1...RateLimit.maxBurst) }
            guard fields.isValid, let rate, let interval else { return nil }
            return RateLimit(rate: rate, interval: interval, burst: burst)
        }
    }

    /// An interval from 1ns to `RateLimit.maxInterval`.
    private static func readInterval(from node: ConfigReader) -> Duration? {
        guard let duration = node.duration(allowZero: false) else { return nil }
        guard duration.nanosecondsClamped >= 1, duration <= RateLimit.maxInterval else {
            return node.expected("a duration from 1ns to \(DurationParser.format(RateLimit.maxInterval))")
        }
        return duration
    }
}
