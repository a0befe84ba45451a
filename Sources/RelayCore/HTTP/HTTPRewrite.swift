import RelayIO
import RelayProtocol

/// The heads an http listener sends on: the request to the server and the response to the client, with the
/// hop-by-hop fields of the other connection removed (RFC 9110 §7.6.1) and the proxy's own fields added. Built as
/// bytes in one buffer sized up front: a head is written once per request, so it should cost one allocation.
enum HTTPRewrite {
    /// Fields that describe one connection, never forwarded (Transfer-Encoding is kept: bodies pass as they are).
    static let hopByHop = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]

    /// Whether `name` equals `lower` (a lower-case ASCII name) ignoring case, without allocating.
    @inline(__always)
    static func named(_ name: String, _ lower: String) -> Bool {
        var other = lower.utf8.makeIterator()
        for byte in name.utf8 {
            guard let expected = other.next(), byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0) == expected else {
                return false
            }
        }
        return other.next() == nil
    }

    /// Whether `name` is hop-by-hop for a message whose `Connection` field lists `listed` (lower case).
    static func isHopByHop(_ name: String, listed: [String]) -> Bool {
        hopByHop.contains { named(name, $0) } || listed.contains { named(name, $0) }
    }

    /// The names a `Connection` field lists beyond the standard ones, lower case (usually none).
    static func connectionTokens(_ headers: HTTPHeaders) -> [String] {
        var tokens: [String] = []
        for header in headers where named(header.name, "connection") {
            for element in header.value.utf8.split(separator: UInt8(ascii: ",")) {
                var token = element[...]
                while let first = token.first, first == 0x20 || first == 0x09 { token = token.dropFirst() }
                while let last = token.last, last == 0x20 || last == 0x09 { token = token.dropLast() }
                guard !token.isEmpty else { continue }
                let name = String(decoding: token, as: UTF8.self)
                if hopByHop.contains(where: { named(name, $0) }) { continue }
                tokens.append(name.lowercased())
            }
        }
        return tokens
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
    /// the route's `add_headers` set; an upgrade keeps `Upgrade` and `Connection: upgrade`.
    @inline(never)
    static func request(_ head: HTTPProxyRequest, route: RouteConfig?, client: SocketAddress, server: SocketAddress,
                        requestID: String?, closeUpstream: Bool) -> [UInt8] {
        var target = Substring(head.target)
        if let route, route.stripPrefix, let prefix = route.pathPrefix, target.hasPrefix(prefix) {
            target = target.dropFirst(prefix.count)
        }
        let listed = connectionTokens(head.headers)
        let added = route?.addHeaders ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(head.headLength + 256)
        bytes.append(contentsOf: head.method.utf8)
        bytes.append(UInt8(ascii: " "))
        if !target.hasPrefix("/") { bytes.append(UInt8(ascii: "/")) }
        bytes.append(contentsOf: target.utf8)
        bytes.append(contentsOf: head.version == .http1_1 ? " HTTP/1.1\r\n".utf8 : " HTTP/1.0\r\n".utf8)
        var forwardedFor: String?
        var forwarded: String?
        var host: String?
        for header in head.headers {
            let name = header.name
            if isHopByHop(name, listed: listed) { continue }
            if !added.isEmpty, added.contains(where: { named(name, $0.name.lowercased()) }) { continue }
            if named(name, "x-forwarded-for") {
                forwardedFor = forwardedFor.map { $0 + ", " + header.value } ?? header.value
            } else if named(name, "forwarded") {
                forwarded = forwarded.map { $0 + ", " + header.value } ?? header.value
            } else if named(name, "x-forwarded-proto") {
                continue
            } else {
                if host == nil, named(name, "host") { host = header.value }
                field(&bytes, name, header.value)
            }
        }
        if host == nil { field(&bytes, "Host", server.description) }
        let ip = client.ip
        field(&bytes, "X-Forwarded-For", forwardedFor.map { $0 + ", " + ip } ?? ip)
        bytes.append(contentsOf: "X-Forwarded-Proto: http\r\n".utf8)
        var element = client.isIPv6 ? "for=\"[\(ip)]\";proto=http" : "for=\(ip);proto=http"
        if let host, host.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "\"") }) { element += ";host=\"\(host)\"" }
        field(&bytes, "Forwarded", forwarded.map { $0 + ", " + element } ?? element)
        if let requestID { field(&bytes, "X-Request-Id", requestID) }
        for (name, value) in added { field(&bytes, name, value) }
        if head.isUpgrade, let upgrade = head.headers["Upgrade"] {
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
    static func response(_ response: HTTPProxyResponse, keepAlive: Bool, clientVersion: HTTPVersion) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(response.headLength + 64)
        bytes.append(contentsOf: "HTTP/1.1 ".utf8)
        bytes.append(contentsOf: String(response.status).utf8)
        bytes.append(UInt8(ascii: " "))
        bytes.append(contentsOf: response.reason.utf8)
        bytes.append(0x0D)
        bytes.append(0x0A)
        response.head.withUnsafeBufferPointer { head in
            for line in response.lines where !line.hopByHop {
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
