import RelayIO
import RelayProtocol

/// The heads an http listener sends on: the request to the server and the response to the client, with the
/// hop-by-hop fields of the other connection removed (RFC 9110 §7.6.1) and the proxy's own fields added.
enum HTTPRewrite {
    /// Fields that describe one connection, never forwarded (Transfer-Encoding is kept: bodies pass as they are).
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]

    /// Whether `name` is hop-by-hop for a message whose `Connection` field lists `listed`.
    static func isHopByHop(_ name: String, listed: Set<String>) -> Bool {
        let lower = name.lowercased()
        return hopByHop.contains(lower) || listed.contains(lower)
    }

    /// The names a `Connection` field lists, lower case.
    static func connectionTokens(_ headers: HTTPHeaders) -> Set<String> {
        var tokens = Set<String>()
        for value in headers.values(for: "Connection") {
            for element in value.split(separator: ",") {
                let token = element.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }
                if !token.isEmpty { tokens.insert(String(token.reversed()).lowercased()) }
            }
        }
        return tokens
    }

    /// The request head for the server: the route's prefix stripped, hop-by-hop fields dropped, `X-Forwarded-For`,
    /// `X-Forwarded-Proto`, `Forwarded` and `X-Request-Id` (when `requestID` is given: the client sent none) added,
    /// the route's `add_headers` set; an upgrade keeps `Upgrade` and `Connection: upgrade`.
    static func request(_ head: HTTPProxyRequest, route: RouteConfig?, client: SocketAddress, server: SocketAddress,
                        requestID: String?, closeUpstream: Bool) -> [UInt8] {
        var target = head.target
        if let route, route.stripPrefix, let prefix = route.pathPrefix, target.hasPrefix(prefix) {
            target = String(target.dropFirst(prefix.count))
            if !target.hasPrefix("/") { target = "/" + target }
        }
        let listed = connectionTokens(head.headers)
        let replaced = Set((route?.addHeaders ?? []).map { $0.name.lowercased() })
        var text = "\(head.method) \(target) \(head.version)\r\n"
        var forwardedFor: [String] = []
        var forwarded: [String] = []
        for field in head.headers {
            let lower = field.name.lowercased()
            if isHopByHop(lower, listed: listed) || replaced.contains(lower) { continue }
            switch lower {
            case "x-forwarded-for": forwardedFor.append(field.value)
            case "forwarded": forwarded.append(field.value)
            case "x-forwarded-proto": continue
            default: text += "\(field.name): \(field.value)\r\n"
            }
        }
        if head.headers["Host"] == nil { text += "Host: \(server)\r\n" }
        forwardedFor.append(client.ip)
        text += "X-Forwarded-For: \(forwardedFor.joined(separator: ", "))\r\n"
        text += "X-Forwarded-Proto: http\r\n"
        let node = client.isIPv6 ? "\"[\(client.ip)]\"" : client.ip
        var element = "for=\(node);proto=http"
        if let host = head.headers["Host"], host.utf8.allSatisfy({ $0 > 0x20 && $0 != UInt8(ascii: "\"") }) {
            element += ";host=\"\(host)\""
        }
        forwarded.append(element)
        text += "Forwarded: \(forwarded.joined(separator: ", "))\r\n"
        if let requestID { text += "X-Request-Id: \(requestID)\r\n" }
        for (name, value) in route?.addHeaders ?? [] { text += "\(name): \(value)\r\n" }
        if head.isUpgrade, let upgrade = head.headers["Upgrade"] {
            text += "Upgrade: \(upgrade)\r\nConnection: upgrade\r\n"
        } else if closeUpstream || head.version == .http1_0 {
            text += "Connection: close\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// The response head for the client: hop-by-hop fields dropped, `Connection` saying what relayd does with
    /// the client connection; a 101 keeps `Upgrade` and `Connection: upgrade`.
    static func response(_ response: HTTPProxyResponse, keepAlive: Bool, clientVersion: HTTPVersion) -> [UInt8] {
        let listed = connectionTokens(response.headers)
        var text = "HTTP/1.1 \(response.status) \(response.reason)\r\n"
        for field in response.headers where !isHopByHop(field.name, listed: listed) {
            text += "\(field.name): \(field.value)\r\n"
        }
        if response.status == 101 {
            if let upgrade = response.headers["Upgrade"] { text += "Upgrade: \(upgrade)\r\n" }
            text += "Connection: upgrade\r\n"
        } else if !keepAlive {
            text += "Connection: close\r\n"
        } else if clientVersion == .http1_0 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}
