import RelayIO
import RelayProtocol

/// The heads an http listener sends on: the request to the server and the response to the client, with the
/// hop-by-hop fields of the other connection removed (RFC 9110 §7.6.1) and the proxy's own fields added. Built as
/// bytes in one buffer sized up front: a head is written once per request, so it should cost one allocation.
enum HTTPRewrite {
    /// What the forwarded fields say about one client, made once per client connection.
    struct Client {
        /// The address as `X-Forwarded-For` writes it.
        let ip: [UInt8]
        /// Its `Forwarded` element (RFC 7239: an IPv6 address is quoted and bracketed) without `host=`.
        let element: [UInt8]

        init(_ address: SocketAddress) {
            let ip = address.ip
            self.ip = Array(ip.utf8)
            element = Array((address.isIPv6 ? "for=\"[\(ip)]\";proto=http" : "for=\(ip);proto=http").utf8)
        }
    }

    /// Whether `bytes` equal `lower` (lower-case ASCII) ignoring case.
    @inline(__always)
    static func equalsLower(_ bytes: UnsafeBufferPointer<UInt8>.SubSequence, _ lower: [UInt8]) -> Bool {
        guard bytes.count == lower.count else { return false }
        var index = bytes.startIndex
        for expected in lower {
            let byte = bytes[index]
            guard byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0) == expected else { return false }
            index += 1
        }
        return true
    }

    /// Appends the decimal digits of `value` (0 ... 999).
    @inline(__always)
    static func appendDecimal(_ bytes: inout [UInt8], _ value: Int) {
        if value >= 100 { bytes.append(UInt8(ascii: "0") + UInt8(value / 100 % 10)) }
        if value >= 10 { bytes.append(UInt8(ascii: "0") + UInt8(value / 10 % 10)) }
        bytes.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// Appends `name: value` CRLF.
    @inline(__always)
    static func field(_ bytes: inout [UInt8], _ name: String, _ value: String) {
        bytes.append(contentsOf: name.utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: value.utf8)
        bytes.append(0x0D)
        bytes.append(0x0A)
    }

    /// The request head for the server: the route's prefix stripped, hop-by-hop fields dropped, `X-Forwarded-For`,
    /// `X-Forwarded-Proto`, `Forwarded` and `X-Request-Id` (when `requestID` is given: the client sent none) added,
    /// the route's `add_headers` set; an upgrade keeps `Upgrade` and `Connection: upgrade`. The client's other
    /// field lines are copied as they came. `extraCapacity`: bytes the caller appends (body bytes that came along).
    @inline(never)
    static func request(_ head: HTTPProxyRequest, route: HTTPGateway.Route?, client: Client, server: SocketAddress,
                        requestID: UInt64?, closeUpstream: Bool, extraCapacity: Int = 0) -> [UInt8] {
        var target = Substring(head.target)
        if let config = route?.config, config.stripPrefix, let prefix = config.pathPrefix, target.hasPrefix(prefix) {
            target = target.dropFirst(prefix.count)
        }
        let addedNames = route?.addedNames ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.headLength + 256 + extraCapacity)
        bytes.append(contentsOf: head.method.utf8)
        bytes.append(UInt8(ascii: " "))
        if !target.hasPrefix("/") { bytes.append(UInt8(ascii: "/")) }
        bytes.append(contentsOf: target.utf8)
        bytes.append(contentsOf: head.version == .http1_1 ? " HTTP/1.1\r\n".utf8 : " HTTP/1.0\r\n".utf8)
        var forwardedFor: [HTTPProxyRequest.Line] = []
        var forwarded: [HTTPProxyRequest.Line] = []
        var host: HTTPProxyRequest.Line?
        head.head.withUnsafeBufferPointer { raw in
            for line in head.lines {
                switch line.role {
                case .hopByHop, .forwardedProto: continue
                default: break
                }
                if !addedNames.isEmpty, addedNames.contains(where: { equalsLower(raw[line.start..<line.colon], $0) }) {
                    continue
                }
                switch line.role {
                case .forwardedFor: forwardedFor.append(line)
                case .forwarded: forwarded.append(line)
                default:
                    if line.role == .host, host == nil { host = line }
                    bytes.append(contentsOf: raw[line.start..<line.end])
                    bytes.append(0x0D)
                    bytes.append(0x0A)
                }
            }
            if host == nil { field(&bytes, "Host", server.description) }
            bytes.append(contentsOf: "X-Forwarded-For: ".utf8)
            for line in forwardedFor {
                bytes.append(contentsOf: raw[line.valueStart..<line.valueEnd])
                bytes.append(contentsOf: ", ".utf8)
            }
            bytes.append(contentsOf: client.ip)
            bytes.append(contentsOf: "\r\nX-Forwarded-Proto: http\r\nForwarded: ".utf8)
            for line in forwarded {
                bytes.append(contentsOf: raw[line.valueStart..<line.valueEnd])
                bytes.append(contentsOf: ", ".utf8)
            }
            bytes.append(contentsOf: client.element)
            if let host {
                let value = raw[host.valueStart..<host.valueEnd]
                if value.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "\"") }) {
                    bytes.append(contentsOf: ";host=\"".utf8)
                    bytes.append(contentsOf: value)
                    bytes.append(UInt8(ascii: "\""))
                }
            }
            bytes.append(0x0D)
            bytes.append(0x0A)
        }
        if let requestID {
            // Sixteen hex digits, written in place: as a String they would not fit inline and cost an allocation.
            bytes.append(contentsOf: "X-Request-Id: ".utf8)
            let digits: StaticString = "0123456789abcdef"
            for shift in stride(from: 60, through: 0, by: -4) {
                bytes.append(digits.utf8Start[Int(requestID >> UInt64(shift) & 0xF)])
            }
            bytes.append(0x0D)
            bytes.append(0x0A)
        }
        if let route { for (name, value) in route.config.addHeaders { field(&bytes, name, value) } }
        if head.isUpgrade, let upgrade = head.upgrade {
            field(&bytes, "Upgrade", upgrade)
            bytes.append(contentsOf: "Connection: upgrade\r\n".utf8)
        } else if closeUpstream || head.version == .http1_0 {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
        return bytes
    }

    /// The response head for the client: the server's field lines copied as they came, but for the hop-by-hop
    /// ones, and `Connection` saying what relayd does with the client connection; a 101 keeps `Upgrade` and
    /// `Connection: upgrade`.
    @inline(never)
    /// `extraCapacity`: bytes the caller appends (the body bytes that came with the head).
    static func response(_ response: HTTPProxyResponse, keepAlive: Bool, clientVersion: HTTPVersion,
                         extraCapacity: Int = 0) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(response.headLength + 64 + extraCapacity)
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        appendDecimal(&bytes, response.status)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: response.reason.utf8)
        bytes.append(0x0D)
        bytes.append(0x0A)
        response.head.withUnsafeBufferPointer { head in
            for line in response.lines where line.role != .hopByHop {
                bytes.append(contentsOf: head[line.start..<line.end])
                bytes.append(0x0D)
                bytes.append(0x0A)
            }
        }
        if response.status == 101 {
            if let upgrade = response.upgrade { field(&bytes, "Upgrade", upgrade) }
            bytes.append(contentsOf: "Connection: upgrade\r\n".utf8)
        } else if !keepAlive {
            bytes.append(contentsOf: "Connection: close\r\n".utf8)
        } else if clientVersion == .http1_0 {
            bytes.append(contentsOf: "Connection: keep-alive\r\n".utf8)
        }
        bytes.append(0x0D)
        bytes.append(0x0A)
        return bytes
    }
}
