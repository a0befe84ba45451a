extension ProbeParameters {
    /// The probe kinds, by their name in `kind`.
    static let kindNames = ["tcp", "http", "udp"]
    /// The keys that only one kind of probe takes, and that kind.
    private static let kindKeys = [("path", "http"), ("expect_status", "http"), ("payload", "udp"),
                                   ("payload_hex", "udp")]
    /// The largest UDP payload that fits one datagram over IPv4.
    static let maximumPayload = 65507
    /// What a udp probe sends when neither `payload` nor `payload_hex` is given.
    static let defaultPayload = Array("ping".utf8)

    /// Reads a `probe` object, with defaults for absent keys; an absent `kind` is `defaultKind`, which follows
    /// the listeners that use the group. Keys of another kind of probe (`path` on a tcp probe) are errors rather
    /// than ignored, since a probe that silently checks less than written is worse than none.
    static func read(from node: ConfigReader, defaultKind: ProbeKindDefault = .tcp) -> ProbeParameters? {
        node.object { fields in
            var probe = ProbeParameters()
            var kind = defaultKind.kindName
            fields.read("kind", into: &kind) { $0.choice(among: kindNames) { kindNames.contains($0) ? $0 : nil } }
            let kindGiven = fields.optional("kind") != nil
            if !kindGiven, let problem = defaultKind.problem {
                fields.reject("kind", problem)
            }
            let kindIsKnown = !fields.failedKeys.contains("kind")
            var path = "/"
            var status = 200...399
            var payload = defaultPayload
            for (key, owner) in kindKeys {
                guard fields.optional(key) != nil, kindIsKnown, let kind, kind != owner else { continue }
                let current = "`\(kind)`" + (kindGiven ? "" : " \(defaultKind.reason)")
                fields.reject(key, "only \(owner == "http" ? "an" : "a") \(owner) probe takes `\(key)`, and this "
                              + "probe's kind is \(current); remove this key or set `kind: \"\(owner)\"`")
            }
            if kind == "http" {
                fields.read("path", into: &path) { $0.httpPath() }
                fields.read("expect_status", into: &status) { $0.statusCodes() }
            }
            if kind == "udp" {
                if fields.optional("payload") != nil, fields.optional("payload_hex") != nil {
                    fields.reject("payload_hex", "give the payload either as text (`payload`) or as hex (`payload_hex`), "
                                  + "not both")
                }
                fields.read("payload", into: &payload) { $0.probePayload() }
                // Binary payloads (a protocol's real request, with NUL bytes JSON5 strings cannot carry).
                fields.read("payload_hex", into: &payload) { $0.hexPayload() }
            }
            fields.read("interval", into: &probe.interval) { $0.duration(allowZero: false) }
            fields.read("timeout", into: &probe.timeout) { $0.duration(allowZero: false) }
            fields.read("candidates", into: &probe.candidates) { $0.integer(in: 1...Int.max) }
            let beforeInitial = probe
            fields.read("initial", into: &probe) { readInitial(from: $0, into: beforeInitial) }
            fields.read("rise", into: &probe.rise) { $0.integer(in: 1...100) }
            fields.read("fall", into: &probe.fall) { $0.integer(in: 1...100) }
            // Which version is the group's `send_proxy`: the group fills it in; until then, a marker.
            var sendProxy = false
            if kind == "udp", fields.optional("send_proxy") != nil {
                fields.reject("send_proxy", "a udp probe sends its payload only; `send_proxy` is for tcp and http probes")
            } else {
                fields.read("send_proxy", into: &sendProxy) { $0.bool() }
            }
            probe.proxyHeader = sendProxy ? .v2 : .off
            switch kind {
            case "http": probe.kind = .http(path: path, expectStatus: status)
            case "udp": probe.kind = .udp(payload: payload)
            default: probe.kind = .tcp
            }
            return fields.isValid ? probe : nil
        }
    }

    /// Reads the `initial` object (the round that probes every server once at start) into a copy of `probe`.
    private static func readInitial(from node: ConfigReader, into probe: ProbeParameters) -> ProbeParameters? {
        node.object { fields in
            var probe = probe
            fields.read("enabled", into: &probe.initialEnabled) { $0.bool() }
            fields.read("concurrency", into: &probe.initialConcurrency) { $0.integer(in: 1...10_000) }
            fields.read("timeout", into: &probe.initialTimeout) { $0.duration(allowZero: false) }
            return fields.isValid ? probe : nil
        }
    }
}

extension ConfigReader {
    /// A UDP probe payload written as hex digits (spaces allowed between bytes): `"00 01 ff"`.
    func hexPayload() -> [UInt8]? {
        let wanted = #"hex digits, two per byte, such as "0001ff" or "00 01 ff""#
        guard case .string(let text) = value else { return expected(wanted) }
        let digits = Array(text.unicodeScalars.filter { $0 != " " })
        guard !digits.isEmpty, digits.count.isMultiple(of: 2), digits.count / 2 <= ProbeParameters.maximumPayload else {
            return expected(wanted, hint: "an even number of digits, 1 to \(ProbeParameters.maximumPayload) bytes")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(digits[index]) + String(digits[index + 1]), radix: 16) else {
                return expected(wanted)
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// The path an http probe requests: it starts with `/` and is made of visible ASCII characters, since it goes
    /// into the request line as written.
    func httpPath() -> String? {
        let wanted = #"a path starting with "/", such as "/healthz""#
        guard case .string(let text) = value, text.hasPrefix("/") else { return expected(wanted) }
        guard text.unicodeScalars.allSatisfy({ ("!"..."~").contains($0) }) else {
            return expected(wanted, hint: "spaces, control characters and non-ASCII characters must be "
                            + "percent-encoded (a space is %20)")
        }
        return text
    }

    /// The HTTP status codes a healthy server may answer with: one code (`200`) or a range (`"200-399"`), from
    /// 100 to 599.
    func statusCodes() -> ClosedRange<Int>? {
        let wanted = #"a status code from 100 to 599, or a range such as "200-399""#
        let codes = 100...599
        switch value {
        case .number(let number):
            guard let code = Int(exactly: number), codes.contains(code) else { return expected(wanted) }
            return code...code
        case .string(let text):
            let parts = text.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), text.allSatisfy({ $0 == "-" || ("0"..."9").contains($0) }),
                  let low = parts.first.flatMap({ Int($0) }), let high = parts.last.flatMap({ Int($0) }),
                  codes.contains(low), codes.contains(high) else { return expected(wanted) }
            guard low <= high else { return expected(wanted, hint: "write the lower code first") }
            return low...high
        default:
            return expected(wanted)
        }
    }

    /// What a udp probe sends: a non-empty string, sent as its UTF-8 bytes.
    func probePayload() -> [UInt8]? {
        let wanted = "a non-empty string of at most \(ProbeParameters.maximumPayload) bytes (sent as UTF-8)"
        guard case .string(let text) = value, !text.isEmpty, text.utf8.count <= ProbeParameters.maximumPayload else {
            return expected(wanted)
        }
        return Array(text.utf8)
    }
}
