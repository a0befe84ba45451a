import Testing
@testable import RelayCore

@Suite struct ConfigEndpointTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", 8080, false, "127.0.0.1:8080"),
        ("0.0.0.0:0", "0.0.0.0", 0, false, "0.0.0.0:0"),
        ("[::1]:8080", "::1", 8080, true, "[::1]:8080"),
        ("[::]:80", "::", 80, true, "[::]:80"),
        ("[0:0:0:0:0:0:0:1]:65535", "::1", 65535, true, "[::1]:65535"),
        ("[FD00::A]:1", "fd00::a", 1, true, "[fd00::a]:1"),
        ("[::ffff:10.0.0.1]:9", "::ffff:10.0.0.1", 9, true, "[::ffff:10.0.0.1]:9"),
    ])
    func parsesIPLiteralsWithPort(text: String, host: String, port: Int, isIPv6: Bool, description: String) throws {
        let endpoint = try Endpoint(parsing: text)
        #expect(endpoint.host == host)
        #expect(endpoint.port == UInt16(port))
        #expect(endpoint.isIPv6 == isIPv6)
        #expect(endpoint.description == description)
    }

    @Test(arguments: [
        ("1.2.3.4", "the port is missing; write host:port, as in 127.0.0.1:8080"),
        ("[::1]", "the port is missing after `]`, as in [::1]:8080"),
        ("[::1]8080", "expected `:` and a port after `]`, as in [::1]:8080"),
        ("[::1:8080", "the closing `]` is missing"),
        ("::1:8080", "an IPv6 address must be written in brackets, as in [::1]:8080"),
        ("localhost:80",
         "`localhost` is not an IP address (host names are not supported yet; write an address such as 127.0.0.1)"),
        ("1.2.3:80", "`1.2.3` is not a valid IPv4 address"),
        ("256.1.1.1:80", "`256.1.1.1` is not a valid IPv4 address"),
        ("[1::2::3]:80", "`1::2::3` is not a valid IPv6 address"),
        ("[127.0.0.1]:80", "`127.0.0.1` is not a valid IPv6 address"),
        ("1.2.3.4:70000", "the port 70000 is out of range (0 to 65535)"),
        ("1.2.3.4:", "the port is missing after `:`"),
        ("1.2.3.4:-1", "the port `-1` is not a number"),
        ("1.2.3.4:http", "the port `http` is not a number"),
        (":8080", "the host is missing; write 0.0.0.0:8080 for every IPv4 address or [::]:8080 for every IPv6 one"),
        ("", "the port is missing; write host:port, as in 127.0.0.1:8080"),
    ])
    func rejectsWithTheReason(text: String, message: String) {
        #expect(throws: Endpoint.ParseError(input: text, message: message)) {
            try Endpoint(parsing: text)
        }
    }

    @Test func equalAddressesSpelledDifferentlyAreEqual() throws {
        #expect(try Endpoint(parsing: "[0::1]:80") == Endpoint(parsing: "[::1]:80"))
    }

    @Test func wildcardIsRecognisedForBothFamilies() throws {
        #expect(try Endpoint(parsing: "0.0.0.0:80").isWildcard)
        #expect(try Endpoint(parsing: "[::]:80").isWildcard)
        #expect(try !Endpoint(parsing: "127.0.0.1:80").isWildcard)
    }
}
