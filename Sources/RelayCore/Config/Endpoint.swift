#if canImport(Glibc)
import Glibc
#endif

/// An IP address and port, such as `127.0.0.1:8080` or `[::1]:8080`: where a listener binds or a backend server
/// is reached.
///
/// The host is an IP literal, checked with `inet_pton`; host names are not resolved yet, and refusing them keeps
/// startup free of DNS. The address is stored in the canonical form `inet_ntop` writes, so two spellings of one
/// address (`::1` and `0:0::1`) compare equal.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    /// The IP literal without brackets, in canonical form (`127.0.0.1`, `::1`).
    public var host: String
    /// The TCP or UDP port; 0 asks the OS to pick one when binding.
    public var port: UInt16
    /// Whether `host` is an IPv6 address, so callers pick the address family without parsing `host` again.
    public var isIPv6: Bool

    /// `127.0.0.1:80` or `[::1]:80`, the same syntax `init(parsing:)` reads.
    public var description: String {
        isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Why a string is not an endpoint, in words fit for a config error or a command-line message.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The text that was rejected.
        public var input: String
        /// What is wrong with it, such as `the port is missing`.
        public var message: String

        public init(input: String, message: String) {
            self.input = input
            self.message = message
        }

        public var description: String { "invalid address \(Logger.jsonString(input)): \(message)" }
    }

    /// An endpoint from its parts, without checks: for placeholders and tests that already hold a valid address.
    init(host: String, port: UInt16, isIPv6: Bool) {
        self.host = host
        self.port = port
        self.isIPv6 = isIPv6
    }

    /// Parses `a.b.c.d:port` or `[ipv6]:port`. The port must be present and at most 65535; 0 is accepted here
    /// and refused by callers that need a real port (backend servers).
    public init(parsing text: String) throws(ParseError) {
        func fail(_ message: String) -> ParseError { ParseError(input: text, message: message) }

        let hostText: Substring
        let portText: Substring
        let isIPv6: Bool
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("the closing `]` is missing") }
            hostText = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard !rest.isEmpty else { throw fail("the port is missing after `]`, as in [::1]:8080") }
            guard rest.first == ":" else { throw fail("expected `:` and a port after `]`, as in [::1]:8080") }
            portText = rest.dropFirst()
            isIPv6 = true
        } else {
            let colons = text.count(where: { $0 == ":" })
            if colons > 1 { throw fail("an IPv6 address must be written in brackets, as in [::1]:8080") }
            guard let colon = text.firstIndex(of: ":") else {
                throw fail("the port is missing; write host:port, as in 127.0.0.1:8080")
            }
            hostText = text[..<colon]
            portText = text[text.index(after: colon)...]
            isIPv6 = false
        }

        guard !hostText.isEmpty else {
            throw fail("the host is missing; write 0.0.0.0:\(portText) for every IPv4 address or [::]:\(portText) "
                       + "for every IPv6 one")
        }
        let allowed: (Character) -> Bool = isIPv6
            ? { $0.isHexDigit || $0 == ":" || $0 == "." }
            : { ("0"..."9").contains($0) || $0 == "." }
        guard hostText.allSatisfy(allowed) else {
            throw fail("`\(hostText)` is not an IP address (host names are not supported yet; write an address such "
                       + "as 127.0.0.1)")
        }
        guard let canonical = Endpoint.canonical(String(hostText), isIPv6: isIPv6) else {
            throw fail("`\(hostText)` is not a valid \(isIPv6 ? "IPv6" : "IPv4") address")
        }

        guard !portText.isEmpty else { throw fail("the port is missing after `:`") }
        guard portText.allSatisfy({ ("0"..."9").contains($0) }) else {
            throw fail("the port `\(portText)` is not a number")
        }
        guard portText.count <= 5, let port = Int(portText), port <= 65535 else {
            throw fail("the port \(portText) is out of range (0 to 65535)")
        }
        self.init(host: canonical, port: UInt16(port), isIPv6: isIPv6)
    }

    /// Whether this is `0.0.0.0` or `::`, the address that binds every local address of its family.
    /// Whether the address is on the loopback interface (127.0.0.0/8 or ::1): reachable only from this machine.
    public var isLoopback: Bool { isIPv6 ? host == "::1" : host.hasPrefix("127.") }

    public var isWildcard: Bool { host == (isIPv6 ? "::" : "0.0.0.0") }

    /// The address as `inet_ntop` writes it, or nil if `inet_pton` rejects it.
    static func canonical(_ host: String, isIPv6: Bool) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        if isIPv6 {
            var address = in6_addr()
            guard inet_pton(AF_INET6, host, &address) == 1,
                  inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        } else {
            var address = in_addr()
            guard inet_pton(AF_INET, host, &address) == 1,
                  inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
