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
    /// HTTP listeners: `Host` names (`host`), exact or `*.example.com` / `*.svc` wildcards; lower case.
    public var hosts: [String] = []
    /// HTTP listeners: the request path starts with this (`path_prefix`).
    public var pathPrefix: String?
    /// HTTP listeners: header fields that must be present with exactly these values (`headers`, names any case).
    public var headers: [(name: String, value: String)] = []
    /// HTTP listeners: request methods (`methods`), upper case.
    public var methods: [String] = []
    /// HTTP listeners: remove `path_prefix` from the path before forwarding (`strip_prefix`, default false).
    public var stripPrefix = false
    /// HTTP listeners: header fields set on requests this route forwards (`add_headers`).
    public var addHeaders: [(name: String, value: String)] = []
    /// HTTP listeners: client addresses allowed (`allow`; empty: all) and refused (`deny`), answered 403.
    public var allow: [AddressBlock] = []
    public var deny: [AddressBlock] = []
    /// HTTP listeners: the keys a request must present (`api_keys_file`), answered 401 otherwise.
    public var apiKeys: APIKeys?
    /// HTTP listeners: request rate limits (`rate_limit`), answered 429.
    public var rateLimit = RouteRateLimitConfig()

    public init(name: String, sni: [String] = [], alpn: [String] = [], source: [AddressBlock] = [], backend: String) {
        self.name = name
        self.sni = sni
        self.alpn = alpn
        self.source = source
        self.backend = backend
    }

    public static func == (lhs: RouteConfig, rhs: RouteConfig) -> Bool {
        lhs.name == rhs.name && lhs.sni == rhs.sni && lhs.alpn == rhs.alpn && lhs.source == rhs.source
            && lhs.backend == rhs.backend && lhs.hosts == rhs.hosts && lhs.pathPrefix == rhs.pathPrefix
            && lhs.headers.elementsEqual(rhs.headers, by: ==) && lhs.methods == rhs.methods
            && lhs.stripPrefix == rhs.stripPrefix && lhs.addHeaders.elementsEqual(rhs.addHeaders, by: ==)
            && lhs.allow == rhs.allow && lhs.deny == rhs.deny && lhs.apiKeys == rhs.apiKeys
            && lhs.rateLimit == rhs.rateLimit
    }

    /// Whether the route has a matcher only an HTTP listener can apply.
    public var matchesHTTP: Bool { !hosts.isEmpty || pathPrefix != nil || !headers.isEmpty || !methods.isEmpty }

    /// Whether the route has a setting only an HTTP listener applies (a matcher, a rewrite or access control).
    public var isHTTPOnly: Bool {
        matchesHTTP || stripPrefix || !addHeaders.isEmpty || !allow.isEmpty || !deny.isEmpty || apiKeys != nil
            || rateLimit.isEnabled
    }

    /// Whether `host` (lower case, no port) matches one of `hosts`.
    func matches(host: String) -> Bool {
        hosts.contains { pattern in
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst()
                return host.count > suffix.count && host.hasSuffix(suffix)
            }
            return pattern == host
        }
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

    static func read(from node: ConfigReader, index: Int, baseDirectory: String) -> RouteConfig? {
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
            fields.read("host", into: &route.hosts) { value in
                value.stringList(what: "host names such as \"api.example.com\" or \"*.svc\"") { text in
                    let lower = text.lowercased()
                    let bare = lower.hasPrefix("*.") ? String(lower.dropFirst(2)) : lower
                    guard TLSClientHello.isHostName(bare.utf8) || bare == "localhost" else { return nil }
                    return lower
                }
            }
            fields.read("path_prefix", into: &route.pathPrefix) { (value: ConfigReader) -> String? in
                guard case .string(let text) = value.value, text.hasPrefix("/"),
                      text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") }) else {
                    return value.expected("a path starting with / such as \"/v1/\"")
                }
                return text
            }
            fields.read("methods", into: &route.methods) { value in
                value.stringList(what: "request methods such as \"GET\" or \"POST\"") { text in
                    text.isEmpty || !text.utf8.allSatisfy({ $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") })
                        ? nil : text
                }
            }
            fields.read("headers", into: &route.headers) { (reader: ConfigReader) -> [(name: String, value: String)]? in
                reader.headerFields()
            }
            fields.read("add_headers", into: &route.addHeaders) { (reader: ConfigReader) -> [(name: String, value: String)]? in
                reader.headerFields()
            }
            fields.read("strip_prefix", into: &route.stripPrefix) { $0.bool() }
            fields.read("allow", into: &route.allow) { $0.addressBlocks() }
            fields.read("deny", into: &route.deny) { $0.addressBlocks() }
            fields.read("api_keys_file", into: &route.apiKeys) { (value: ConfigReader) -> APIKeys? in
                guard case .string(let text) = value.value, !text.isEmpty else { return value.expected("a file path") }
                let path = TextFile.resolve(text, in: baseDirectory)
                do {
                    return try APIKeys.parse(try TextFile.read(path, kind: "an API keys file"), file: path)
                } catch let error as TextFile.Failure {
                    return value.reject("cannot read the API keys file \(Logger.jsonString(path)): \(error.reason)")
                } catch {
                    return value.reject("the API keys file \(Logger.jsonString(path)): \(error)")
                }
            }
            fields.read("rate_limit", into: &route.rateLimit) { RouteRateLimitConfig.read(from: $0) }
            if route.rateLimit.perKey != nil, route.apiKeys == nil {
                fields.reject("rate_limit", "`per_key` needs an `api_keys_file` whose names it counts by")
            }
            if route.stripPrefix, route.pathPrefix == nil {
                fields.reject("strip_prefix", "`strip_prefix` needs a `path_prefix` to strip")
            }
            return fields.isValid ? route : nil
        }
    }
}

extension ConfigReader {
    /// An object of header fields, `{ "x-model": "llama-3@2" }`: names are tokens, values printable text.
    func headerFields() -> [(name: String, value: String)]? {
        guard let members = members() else { return nil }
        var fields: [(name: String, value: String)] = []
        var valid = true
        for (key, value) in members {
            let tokenBytes = Set("!#$%&'*+-.^_`|~".utf8)
            guard !key.isEmpty, key.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A)
                                                        || tokenBytes.contains($0) }) else {
                value.report("`\(key)` is not a header field name")
                valid = false
                continue
            }
            guard case .string(let text) = value.value,
                  text.utf8.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                let _: Void? = value.expected("a header value (text without control characters)")
                valid = false
                continue
            }
            fields.append((key, text))
        }
        return valid ? fields : nil
    }

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
