/// The ways a server may be written, in `servers` and in a `servers_file`:
///
/// - an IP address with a port: `10.0.0.1:8080`, `[2001:db8::2]:8080`;
/// - an IP address alone, which takes the group's `default_port`: `10.0.0.1`, `2001:db8::1`, `[2001:db8::1]`;
/// - a host name, with or without a port: `app.internal:8080`, `app.internal`;
/// - an address block, expanded into its addresses: `10.0.0.0/30`, `2001:db8::/126`, with a port as
///   `10.0.0.0/30:8080` or `[2001:db8::/126]:8080`.
///
/// An IPv6 address followed by a port must be in brackets, as for listen addresses: `2001:db8::1:8080` is itself
/// a valid IPv6 address, so without brackets it is read as one (with the default port).
enum ServerSpec {
    /// What a server string stands for: one server, or a block of addresses not yet expanded (so its size can be
    /// checked before any memory is spent on it).
    enum Parsed: Equatable {
        /// One address or host name, with its port.
        case target(ServerEntry.Target)
        /// Every address of a block, each with `port`.
        case block(AddressBlock, port: UInt16)
    }

    /// Why a string is not a server, in words that can follow "found …; " in a config message.
    struct Failure: Error, Equatable {
        var message: String
    }

    /// Examples of the forms, for "expected" messages.
    static let examples = #""10.0.0.1:8080", "[2001:db8::1]:8080", "app.internal:8080" or "10.0.0.0/30""#

    /// Reads one server; `defaultPort` is the group's `default_port`, for forms written without a port.
    static func parse(_ text: String, defaultPort: UInt16?) throws(Failure) -> Parsed {
        guard !text.isEmpty else { throw Failure(message: "the address is empty") }
        if text.unicodeScalars.contains(where: \.properties.isWhitespace) {
            throw Failure(message: "an address has no spaces in it")
        }
        if text.hasPrefix("[") { return try parseBracketed(text, defaultPort: defaultPort) }
        if let slash = text.firstIndex(of: "/") {
            let address = text[..<slash]
            var prefix = text[text.index(after: slash)...]
            var portText: Substring?
            if let colon = prefix.firstIndex(of: ":") {
                if address.contains(":") {
                    throw Failure(message: "an IPv6 block with a port is written in brackets, as in "
                                  + "[\(address)/\(prefix[..<colon])]:\(prefix[prefix.index(after: colon)...])")
                }
                portText = prefix[prefix.index(after: colon)...]
                prefix = prefix[..<colon]
            }
            let block = try AddressBlock(address: address, prefix: prefix, isIPv6: address.contains(":"))
            let example = block.isIPv6 ? "[\(block)]" : block.description
            return .block(block, port: try port(portText, defaultPort: defaultPort, example: example))
        }
        if text.count(where: { $0 == ":" }) > 1 {
            guard let host = Endpoint.canonical(text, isIPv6: true) else {
                throw Failure(message: "`\(text)` is not a valid IPv6 address (an IPv6 address with a port is "
                              + "written in brackets, as in [2001:db8::1]:8080)")
            }
            let port = try port(nil, defaultPort: defaultPort, example: "[\(host)]")
            return .target(.address(Endpoint(host: host, port: port, isIPv6: true)))
        }
        let colon = text.firstIndex(of: ":")
        let hostText = colon.map { text[..<$0] } ?? text[...]
        let portText = colon.map { text[text.index(after: $0)...] }
        guard !hostText.isEmpty else { throw Failure(message: "the host is missing before `:`") }
        if hostText.allSatisfy({ $0 == "." || ("0"..."9").contains($0) }) {
            guard let host = Endpoint.canonical(String(hostText), isIPv6: false) else {
                throw Failure(message: "`\(hostText)` is not a valid IPv4 address")
            }
            let port = try port(portText, defaultPort: defaultPort, example: host)
            return .target(.address(Endpoint(host: host, port: port, isIPv6: false)))
        }
        if let problem = HostName.problem(with: hostText) {
            throw Failure(message: "`\(hostText)` is not a valid host name: \(problem)")
        }
        let port = try port(portText, defaultPort: defaultPort, example: String(hostText))
        return .target(.hostname(hostText.lowercased(), port: port))
    }

    /// `[2001:db8::1]`, `[2001:db8::1]:8080`, `[2001:db8::/126]` or `[2001:db8::/126]:8080`.
    private static func parseBracketed(_ text: String, defaultPort: UInt16?) throws(Failure) -> Parsed {
        guard let close = text.firstIndex(of: "]") else { throw Failure(message: "the closing `]` is missing") }
        let inner = text[text.index(after: text.startIndex)..<close]
        let rest = text[text.index(after: close)...]
        var portText: Substring?
        if !rest.isEmpty {
            guard rest.first == ":" else {
                throw Failure(message: "expected `:` and a port after `]`, as in [2001:db8::1]:8080")
            }
            portText = rest.dropFirst()
        }
        if let slash = inner.firstIndex(of: "/") {
            let block = try AddressBlock(address: inner[..<slash], prefix: inner[inner.index(after: slash)...],
                                         isIPv6: true)
            return .block(block, port: try port(portText, defaultPort: defaultPort, example: "[\(block)]"))
        }
        guard let host = Endpoint.canonical(String(inner), isIPv6: true) else {
            let hint = inner.contains(":") ? "" : " (brackets are for IPv6 addresses only)"
            throw Failure(message: "`\(inner)` is not a valid IPv6 address\(hint)")
        }
        let port = try port(portText, defaultPort: defaultPort, example: "[\(host)]")
        return .target(.address(Endpoint(host: host, port: port, isIPv6: true)))
    }

    /// The port written after `:`, or the default when none was; `example` is the host as it would be written
    /// before a port, for the message when there is neither.
    private static func port(_ text: Substring?, defaultPort: UInt16?, example: String) throws(Failure) -> UInt16 {
        guard let text else {
            guard let defaultPort else {
                throw Failure(message: "no port is given and the group has no `default_port` (write "
                              + "\(example):8080, or set `default_port`)")
            }
            return defaultPort
        }
        guard !text.isEmpty else { throw Failure(message: "the port is missing after `:`") }
        guard text.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw Failure(message: "the port `\(text)` is not a number")
        }
        guard text.count <= 5, let port = Int(text), (1...65535).contains(port) else {
            throw Failure(message: "the port \(text) is out of range (1 to 65535)")
        }
        return UInt16(port)
    }
}
