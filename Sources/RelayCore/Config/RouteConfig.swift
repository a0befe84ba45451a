import RelayIO
import RelayProtocol

/// One rule of a TCP listener's `routes` (seed 002's rules and matchers): connections it matches go to its
/// `backend` instead of the listener's. Every matcher given must match; a route without matchers matches all.
public struct RouteConfig: Sendable, Equatable {
    /// Names the route in metrics and the access log (`name`, default `routes[N]`).
    public var name: String
    /// Server names from the TLS ClientHello (`sni`): exact (`api.example.com`) or a wildcard that matches any
    /// name ending in the rest (`*.example.com`: `a.example.com`, `a.b.example.com`); lower case.
    public var sni: [String]
    /// ALPN protocols the client offers (`alpn`): the route matches when it offers any of them.
    public var alpn: [String]
    /// Client addresses (`source`): addresses and CIDR blocks; with `accept_proxy`, the client the header names.
    public var source: [AddressBlock]
    /// The backend group (`backend`, required).
    public var backend: String

    public init(name: String, sni: [String] = [], alpn: [String] = [], source: [AddressBlock] = [], backend: String) {
        self.name = name
        self.sni = sni
        self.alpn = alpn
        self.source = source
        self.backend = backend
    }

    /// Whether matching needs the ClientHello.
    public var readsHello: Bool { !sni.isEmpty || !alpn.isEmpty }

    /// Whether `name` (lower case) matches one of `sni`.
    func matches(serverName name: String) -> Bool {
        sni.contains { pattern in
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst()
                return name.count > suffix.count && name.hasSuffix(suffix)
            }
            return pattern == name
        }
    }

    static func read(from node: ConfigReader, index: Int) -> RouteConfig? {
        node.object { fields in
            var route = RouteConfig(name: "routes[\(index)]", backend: "")
            fields.read("name", into: &route.name) { $0.name() }
            let backend = fields.required("backend", "the backend group for connections this route matches") {
                $0.name()
            }
            route.backend = backend ?? ""
            fields.read("sni", into: &route.sni) { value in
                value.stringList(what: "server names such as \"api.example.com\" or \"*.example.com\"") { text in
                    let lower = text.lowercased()
                    let bare = lower.hasPrefix("*.") ? String(lower.dropFirst(2)) : lower
                    guard TLSClientHello.isHostName(bare.utf8) else { return nil }
                    return lower
                }
            }
            fields.read("alpn", into: &route.alpn) { value in
                value.stringList(what: "ALPN protocol names such as \"h2\" or \"http/1.1\"") { text in
                    text.isEmpty || text.utf8.count > 255 ? nil : text
                }
            }
            fields.read("source", into: &route.source) { $0.addressBlocks() }
            return fields.isValid ? route : nil
        }
    }
}

extension ConfigReader {
    /// A non-empty array of strings, each checked by `check` (nil: rejected with `what`).
    func stringList(what: String, _ check: (String) -> String?) -> [String]? {
        guard let elements = elements() else { return nil }
        guard !elements.isEmpty else { return expected("a non-empty array of \(what)") }
        var values: [String] = []
        var valid = true
        for element in elements {
            guard case .string(let text) = element.value, let value = check(text) else {
                let _: Void? = element.expected(what)
                valid = false
                continue
            }
            values.append(value)
        }
        return valid ? values : nil
    }
}
