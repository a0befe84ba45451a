import Foundation
import Testing
import TestSupport
@testable import RelayCore

/// A config whose one group, `app`, has the servers `list` (JSON5 text of an array) and the `extra` keys.
private func group(_ list: String?, _ extra: String = "") -> String {
    let keys = [list.map { "servers: \($0)" }, extra.isEmpty ? nil : extra].compactMap(\.self)
    return "{ backends: { app: { \(keys.joined(separator: ", ")) } } }"
}

/// The servers of group `app` read from `text`.
private func servers(of text: String, baseDirectory: String = ".",
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [ServerEntry] {
    let config = try RelayConfig.parse(text, baseDirectory: baseDirectory)
    return try #require(config.backends["app"], sourceLocation: sourceLocation).servers
}

/// Every problem reported for `text`, as `path: message`, without line numbers.
private func problems(_ text: String, baseDirectory: String = ".",
                      sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    do {
        let config = try RelayConfig.parse(text, baseDirectory: baseDirectory)
        Issue.record("expected the config to be rejected, got \(config)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues.map { $0.path.isEmpty ? $0.message : "\($0.path): \($0.message)" }
    }
}

private func address(_ host: String, _ port: UInt16) -> ServerEntry.Target {
    .address(Endpoint(host: host, port: port, isIPv6: host.contains(":")))
}

/// The text every "expected a server address" message starts with.
private let serverWanted = #"expected a server address such as "10.0.0.1:8080", "[2001:db8::1]:8080", "#
    + #""app.internal:8080" or "10.0.0.0/30""#

/// A host name with a label of 64 characters, one more than allowed.
private let longLabelName = String(repeating: "a", count: 64) + ".example"
/// A host name of 259 characters, 6 more than allowed.
private let longName = Array(repeating: "abcdefghi", count: 26).joined(separator: ".")

/// Runs `body` with a fresh directory holding `files` (name and text), and removes the directory afterwards.
private func withFiles<T>(_ files: [(name: String, text: String)], _ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("relayd-servers-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for file in files {
        try file.text.write(toFile: directory + "/" + file.name, atomically: true, encoding: .utf8)
    }
    return try body(directory)
}

@Suite(.computeBound) struct ConfigServerFormTests {
    @Test(arguments: [
        ("10.0.0.1:8080", address("10.0.0.1", 8080)),
        ("[2001:db8::2]:8080", address("2001:db8::2", 8080)),
        ("[2001:DB8:0::2]:8080", address("2001:db8::2", 8080)),
        ("10.0.0.1", address("10.0.0.1", 80)),
        ("2001:db8::1", address("2001:db8::1", 80)),
        ("[2001:db8::1]", address("2001:db8::1", 80)),
        ("app.internal:8080", .hostname("app.internal", port: 8080)),
        ("app.internal", .hostname("app.internal", port: 80)),
        ("App-1.Internal.", .hostname("app-1.internal.", port: 80)),
        ("localhost:65535", .hostname("localhost", port: 65535)),
        ("xn--mnchen-3ya.example", .hostname("xn--mnchen-3ya.example", port: 80)),
    ] as [(String, ServerEntry.Target)])
    func eachStringFormGivesOneServer(text: String, target: ServerEntry.Target) throws {
        let entries = try servers(of: group(#"["\#(text)"]"#, "default_port: 80"))
        #expect(entries == [ServerEntry(target: target, weight: 1, origin: "backends.app.servers[0]")])
    }

    @Test func hostNamesOfTheLongestAllowedShapeAreAccepted() throws {
        let label = String(repeating: "a", count: 63)
        let name = [label, label, label, String(repeating: "b", count: 61)].joined(separator: ".")
        #expect(name.count == 253)
        let entries = try servers(of: group(#"["\#(name):1"]"#))
        #expect(entries.map(\.target) == [.hostname(name, port: 1)])
    }

    @Test(arguments: [
        ("10.0.0.0/30", ["10.0.0.1", "10.0.0.2"]),
        ("10.0.0.0/31", ["10.0.0.0", "10.0.0.1"]),
        ("10.0.0.7/32", ["10.0.0.7"]),
        ("10.0.0.248/29", ["10.0.0.249", "10.0.0.250", "10.0.0.251", "10.0.0.252", "10.0.0.253", "10.0.0.254"]),
        ("2001:db8::/126", ["2001:db8::", "2001:db8::1", "2001:db8::2", "2001:db8::3"]),
        ("[2001:db8::4/127]", ["2001:db8::4", "2001:db8::5"]),
        ("2001:db8::ff/128", ["2001:db8::ff"]),
    ])
    func blocksExpandOnTheDefaultPort(text: String, hosts: [String]) throws {
        let entries = try servers(of: group(#"["\#(text)"]"#, "default_port: 80"))
        #expect(entries.map(\.target) == hosts.map { address($0, 80) })
        #expect(entries.allSatisfy { $0.origin == "backends.app.servers[0]" && $0.weight == 1 })
    }

    @Test func blocksMayCarryTheirOwnPort() throws {
        let entries = try servers(of: group(#"["10.0.0.0/30:8080", "[2001:db8::/127]:9000"]"#))
        #expect(entries.map(\.target) == [address("10.0.0.1", 8080), address("10.0.0.2", 8080),
                                          address("2001:db8::", 9000), address("2001:db8::1", 9000)])
    }

    @Test func blocksCountAcrossByteBoundariesUpToTheCap() throws {
        let v4 = try servers(of: group(#"["192.168.0.0/20:80"]"#))
        #expect(v4.count == 4094)
        #expect(v4.first?.target == address("192.168.0.1", 80))
        #expect(v4.contains { $0.target == address("192.168.0.255", 80) })
        #expect(v4.contains { $0.target == address("192.168.1.0", 80) })
        #expect(v4.last?.target == address("192.168.15.254", 80))
        let v6 = try servers(of: group(#"["[2001:db8::/116]:80"]"#))
        #expect(v6.count == 4096)
        #expect(v6.last?.target == address("2001:db8::fff", 80))
        #expect(Set(v6.map(\.target)).count == 4096)
    }

    @Test(arguments: [
        ("10.0.0.0/16", "10.0.0.0/16 expands to 65534 addresses"),
        ("10.0.0.0/19:80", "10.0.0.0/19 expands to 8190 addresses"),
        ("2001:db8::/112", "2001:db8::/112 expands to 65536 addresses"),
        ("2001:db8::/64", "2001:db8::/64 expands to 2^64 addresses"),
        ("0.0.0.0/0", "0.0.0.0/0 expands to 4294967294 addresses"),
        ("::/0", "::/0 expands to 2^128 addresses"),
    ])
    func blocksOverTheCapAreRejectedWithTheirSize(text: String, size: String) {
        #expect(problems(group(#"["10.1.1.1", "\#(text)"]"#, "default_port: 80"))
            == ["backends.app.servers[1]: \(size); at most 4096 per block, split it or list servers"])
    }

    @Test func groupOfMoreThan65536ServersIsRejectedOnce() {
        let blocks = (0..<18).map { #""10.\#($0).0.0/20:80""# }.joined(separator: ", ")
        #expect(problems(group("[\(blocks)]")) == [
            "backends.app.servers[16]: this takes the group to 69598 servers; at most 65536 per group, so the rest "
                + "of the list is not read",
        ])
    }

    @Test(arguments: [
        ("", "the address is empty"),
        (" 10.0.0.1:80", "an address has no spaces in it"),
        ("10.0.0.256", "`10.0.0.256` is not a valid IPv4 address"),
        ("10.0.0:80", "`10.0.0` is not a valid IPv4 address"),
        ("10.0.0.1:0", "the port 0 is out of range (1 to 65535)"),
        ("10.0.0.1:65536", "the port 65536 is out of range (1 to 65535)"),
        ("10.0.0.1:http", "the port `http` is not a number"),
        ("10.0.0.1:", "the port is missing after `:`"),
        (":80", "the host is missing before `:`"),
        ("2001:db8::g", "`2001:db8::g` is not a valid IPv6 address (an IPv6 address with a port is written in "
            + "brackets, as in [2001:db8::1]:8080)"),
        ("[::1", "the closing `]` is missing"),
        ("[::1]80", "expected `:` and a port after `]`, as in [2001:db8::1]:8080"),
        ("[10.0.0.1]:80", "`10.0.0.1` is not a valid IPv6 address (brackets are for IPv6 addresses only)"),
        ("10.0.0.1/30", "`10.0.0.1` is not the first address of a /30 block; write 10.0.0.0/30 for the block, or "
            + "10.0.0.1 alone"),
        ("2001:db8::1/126", "`2001:db8::1` is not the first address of a /126 block; write 2001:db8::/126 for the "
            + "block, or 2001:db8::1 alone"),
        ("10.0.0.0/33", "the prefix length 33 is out of range (0 to 32 for IPv4)"),
        ("2001:db8::/129", "the prefix length 129 is out of range (0 to 128 for IPv6)"),
        ("10.0.0.0/", "the prefix length is missing after `/`"),
        ("10.0.0.0/x", "the prefix length `x` is not a number"),
        ("2001:db8::/126:8080", "an IPv6 block with a port is written in brackets, as in [2001:db8::/126]:8080"),
        ("app.internal/24", "`app.internal` is not an IP address; a block is an address and a prefix length, as "
            + "in 10.0.0.0/24"),
        ("app_1.internal:80", "`app_1.internal` is not a valid host name: the label `app_1` may only contain "
            + "letters, digits and `-`"),
        ("-app.internal", "`-app.internal` is not a valid host name: the label `-app` cannot start or end with `-`"),
        ("app-.internal", "`app-.internal` is not a valid host name: the label `app-` cannot start or end with `-`"),
        ("app..internal", "`app..internal` is not a valid host name: it has an empty label (two dots in a row, or "
            + "a dot at the start)"),
        ("münchen.example", "`münchen.example` is not a valid host name: the label `münchen` may only contain "
            + "letters, digits and `-` (write an international name in its `xn--` form)"),
        (longLabelName, "`\(longLabelName)` is not a valid host name: the label `aaaaaaaaaaaaaaaaaaaa...` is 64 "
            + "characters long, at most 63"),
        (longName, "`\(longName)` is not a valid host name: it is 259 characters long, at most 253"),
    ] as [(String, String)])
    func badStringsAreRejectedWithTheReason(text: String, reason: String) {
        let found = text.count > 60 ? String(text.prefix(57)) + "..." : text
        #expect(problems(group(#"["\#(text)"]"#, "default_port: 80"))
            == [#"backends.app.servers[0]: \#(serverWanted), found the string "\#(found)"; \#(reason)"#])
    }

    @Test(arguments: [
        ("10.0.0.1", "10.0.0.1:8080"),
        ("2001:db8::1", "[2001:db8::1]:8080"),
        ("[2001:db8::1]", "[2001:db8::1]:8080"),
        ("app.internal", "app.internal:8080"),
        ("10.0.0.0/30", "10.0.0.0/30:8080"),
        ("2001:db8::/126", "[2001:db8::/126]:8080"),
    ])
    func serverWithoutPortNeedsTheDefaultPort(text: String, example: String) {
        #expect(problems(group(#"["\#(text)"]"#))
            == [#"backends.app.servers[0]: \#(serverWanted), found the string "\#(text)"; no port is given and the "#
                + "group has no `default_port` (write \(example), or set `default_port`)"])
    }

    @Test func badDefaultPortIsReportedOnceNotAtEveryServer() {
        #expect(problems(group(#"["10.0.0.1", "10.0.0.2"]"#, "default_port: 0"))
            == ["backends.app.default_port: expected an integer from 1 to 65535, found the number 0"])
        #expect(problems(group(#"["10.0.0.1"]"#, "default_port: '80'"))
            == [#"backends.app.default_port: expected an integer from 1 to 65535, found the string "80"; "#
                + "write the number without quotes"])
    }

    @Test func objectsGiveWeights() throws {
        let entries = try servers(of: group("""
            ["10.0.0.1:80", { address: "10.0.0.2:80", weight: 5 }, { address: "10.0.1.0/31:80", weight: 1000 },
             { address: "app.internal:80" }]
            """))
        #expect(entries == [
            ServerEntry(target: address("10.0.0.1", 80), weight: 1, origin: "backends.app.servers[0]"),
            ServerEntry(target: address("10.0.0.2", 80), weight: 5, origin: "backends.app.servers[1]"),
            ServerEntry(target: address("10.0.1.0", 80), weight: 1000, origin: "backends.app.servers[2]"),
            ServerEntry(target: address("10.0.1.1", 80), weight: 1000, origin: "backends.app.servers[2]"),
            ServerEntry(target: .hostname("app.internal", port: 80), weight: 1, origin: "backends.app.servers[3]"),
        ])
    }

    @Test func badObjectsAreReportedAtTheirKeys() {
        #expect(problems(group(#"[{ address: "10.0.0.1:80", weight: 0 }]"#))
            == ["backends.app.servers[0].weight: expected an integer from 1 to 1000, found the number 0"])
        #expect(problems(group(#"[{ address: "10.0.0.1:80", weight: 1001 }]"#))
            == ["backends.app.servers[0].weight: expected an integer from 1 to 1000, found the number 1001"])
        #expect(problems(group(#"[{ weight: 2 }]"#))
            == [#"backends.app.servers[0].address: missing; this key is required (the server's address, such as "#
                + #""10.0.0.1:8080")"#])
        #expect(problems(group(#"[{ address: "10.0.0.1:80", wieght: 2 }]"#))
            == ["backends.app.servers[0].wieght: unknown key; did you mean `weight`?"])
        #expect(problems(group(#"[{ address: "10.0.0.1" }]"#)).first?
            .hasPrefix("backends.app.servers[0].address: \(serverWanted)") == true)
        #expect(problems(group("[5]"))
            == ["backends.app.servers[0]: \(serverWanted), or an object { address, weight }, found the number 5"])
    }

    @Test func serversListedTwiceAreRejected() {
        #expect(problems(group(#"["10.0.0.1:80", "10.0.0.2:80", "10.0.0.1:80"]"#))
            == ["backends.app.servers[2]: 10.0.0.1:80 is already listed at backends.app.servers[0]; "
                + "list each server once"])
        #expect(problems(group(#"["[::1]:80", "[0:0::1]:80"]"#))
            == ["backends.app.servers[1]: [::1]:80 is already listed at backends.app.servers[0]; "
                + "list each server once"])
        #expect(problems(group(#"["App.Internal:80", { address: "app.internal:80", weight: 2 }]"#))
            == ["backends.app.servers[1].address: app.internal:80 is already listed at backends.app.servers[0]; "
                + "list each server once"])
        #expect(problems(group(#"["10.0.0.2", "10.0.0.0/30"]"#, "default_port: 80"))
            == ["backends.app.servers[1]: 10.0.0.0/30 includes 10.0.0.2:80, already listed at "
                + "backends.app.servers[0]; list each server once"])
        #expect(problems(group(#"["10.0.0.0/30", "10.0.0.0/29"]"#, "default_port: 80"))
            == ["backends.app.servers[1]: 10.0.0.0/29 includes 10.0.0.1:80, already listed at "
                + "backends.app.servers[0] (and 1 more of its addresses are listed already); list each server once"])
    }

    @Test func sameAddressOnAnotherPortIsAnotherServer() throws {
        let entries = try servers(of: group(#"["10.0.0.1:80", "10.0.0.1:81", "10.0.0.1"]"#, "default_port: 82"))
        #expect(entries.map(\.target.description) == ["10.0.0.1:80", "10.0.0.1:81", "10.0.0.1:82"])
    }

    @Test func groupNeedsServersFromSomewhere() {
        #expect(problems(group(nil)) == [
            "backends.app.servers: missing; this key is required unless `servers_file` is given (a list of servers "
                + #"to relay to, such as "10.0.0.1:8080")"#,
        ])
        #expect(problems(group("[]"))
            == ["backends.app.servers: expected at least one server address, found an empty array"])
    }
}

@Suite struct ConfigServersFileTests {
    static let list = """
        # web servers\r
        \r
        10.0.0.1:8080\r
          10.0.0.2:8080 weight=3   # the bigger machine
        \t[2001:db8::2]:8080\tweight=2#no space before the comment
        app.internal              # default_port

        10.0.1.0/30 weight=5
        # the end
        """

    @Test func listIsReadWithCommentsWeightsAndBlankLines() throws {
        try withFiles([("servers.txt", Self.list)]) { directory in
            let text = group(#"["10.0.0.9:8080"]"#, #"servers_file: "servers.txt", default_port: 80"#)
            let config = try RelayConfig.parse(text, baseDirectory: directory)
            let app = try #require(config.backends["app"])
            #expect(app.servers == [
                ServerEntry(target: address("10.0.0.9", 8080), weight: 1, origin: "backends.app.servers[0]"),
                ServerEntry(target: address("10.0.0.1", 8080), weight: 1, origin: "servers.txt:3"),
                ServerEntry(target: address("10.0.0.2", 8080), weight: 3, origin: "servers.txt:4"),
                ServerEntry(target: address("2001:db8::2", 8080), weight: 2, origin: "servers.txt:5"),
                ServerEntry(target: .hostname("app.internal", port: 80), weight: 1, origin: "servers.txt:6"),
                ServerEntry(target: address("10.0.1.1", 80), weight: 5, origin: "servers.txt:8"),
                ServerEntry(target: address("10.0.1.2", 80), weight: 5, origin: "servers.txt:8"),
            ])
            #expect(app.serversFile == "servers.txt")
            #expect(app.serversFilePath == directory + "/servers.txt")
            #expect(app.defaultPort == 80)
        }
    }

    @Test func fileAloneIsEnoughAndIsFoundNextToTheConfigFile() throws {
        let config = group(nil, #"servers_file: "lists/servers.txt", default_port: 80"#)
        try withFiles([("relayd.json5", config)]) { directory in
            try FileManager.default.createDirectory(atPath: directory + "/lists", withIntermediateDirectories: false)
            try "10.0.0.1\n10.0.0.2 weight=2\n".write(toFile: directory + "/lists/servers.txt", atomically: true,
                                                    encoding: .utf8)
            let loaded = try RelayConfig.load(path: directory + "/relayd.json5")
            let app = try #require(loaded.backends["app"])
            #expect(app.servers.map(\.target.description) == ["10.0.0.1:80", "10.0.0.2:80"])
            #expect(app.servers.map(\.weight) == [1, 2])
            #expect(app.servers.map(\.origin) == ["lists/servers.txt:1", "lists/servers.txt:2"])
            #expect(app.serversFilePath == directory + "/lists/servers.txt")
        }
    }

    @Test func absolutePathIsUsedAsWritten() throws {
        try withFiles([("servers.txt", "10.0.0.1:80\n")]) { directory in
            let entries = try servers(of: group(nil, #"servers_file: "\#(directory)/servers.txt""#),
                                      baseDirectory: "/nonexistent")
            #expect(entries.map(\.origin) == ["\(directory)/servers.txt:1"])
        }
    }

    @Test func badLinesAreReportedWithFileAndLineAtTheKey() throws {
        let list = """
            10.0.0.1:8080
            10.0.0.300
            10.0.0.2:8080 weight=0
            10.0.0.3:8080 wieght=2
            10.0.0.1:8080   # again
            10.0.0.4:8080 weight=2 weight=3
            10.0.0.5:8080 weight=
            10.0.0.9
            """
        try withFiles([("servers.txt", list)]) { directory in
            let text = "{\n  backends: {\n    app: {\n      servers_file: 'servers.txt',\n    },\n  },\n}"
            let issues = try #require(throws: ConfigError.self) {
                try RelayConfig.parse(text, baseDirectory: directory)
            }.issues
            #expect(issues.allSatisfy { $0.path == "backends.app.servers_file" && $0.line == 4 })
            #expect(issues.map(\.message) == [
                #"servers.txt:2: "10.0.0.300" is not a server address: `10.0.0.300` is not a valid IPv4 address"#,
                "servers.txt:3: expected a weight from 1 to 1000 after `weight=`, found `0`",
                "servers.txt:4: unexpected `wieght=2` after the server; only `weight=N` may follow it (a comment "
                    + "starts with `#`)",
                "servers.txt:5: 10.0.0.1:8080 is already listed at servers.txt:1; list each server once",
                "servers.txt:6: the weight is given twice (`weight=2` and `weight=3`); keep one",
                "servers.txt:7: expected a weight from 1 to 1000 after `weight=`, found nothing",
                #"servers.txt:8: "10.0.0.9" is not a server address: no port is given and the group has no "#
                    + "`default_port` (write 10.0.0.9:8080, or set `default_port`)",
            ])
        }
    }

    @Test func serverInTheFileAndInTheConfigIsListedTwice() throws {
        try withFiles([("servers.txt", "10.0.0.2:80\n10.0.0.1:80\n")]) { directory in
            #expect(problems(group(#"["10.0.0.1:80"]"#, "servers_file: 'servers.txt'"), baseDirectory: directory)
                == ["backends.app.servers_file: servers.txt:2: 10.0.0.1:80 is already listed at "
                    + "backends.app.servers[0]; list each server once"])
        }
    }

    @Test func blockOverTheCapInTheFileIsReportedAtItsLine() throws {
        try withFiles([("servers.txt", "\n10.0.0.0/16:80\n")]) { directory in
            #expect(problems(group(nil, "servers_file: 'servers.txt'"), baseDirectory: directory)
                == ["backends.app.servers_file: servers.txt:2: 10.0.0.0/16 expands to 65534 addresses; at most 4096 "
                    + "per block, split it or list servers"])
        }
    }

    @Test func missingFileIsReportedWithTheKeyAndWhereItWasLooked() throws {
        try withFiles([]) { directory in
            #expect(problems(group(nil, "servers_file: 'missing.txt'"), baseDirectory: directory)
                == [#"backends.app.servers_file: cannot read the server list "missing.txt" (at "#
                    + #""\#(directory)/missing.txt"): No such file or directory"#])
        }
        #expect(problems(group(#"["10.0.0.1:80"]"#, "servers_file: 'does-not-exist.txt'"))
            == [#"backends.app.servers_file: cannot read the server list "does-not-exist.txt": "#
                + "No such file or directory"])
    }

    @Test func fileWithNoServersLeavesTheGroupEmpty() throws {
        try withFiles([("servers.txt", "# nothing yet\n\n")]) { directory in
            #expect(problems(group(nil, "servers_file: 'servers.txt'"), baseDirectory: directory)
                == [#"backends.app.servers_file: "servers.txt" lists no servers; a group needs at least one server"#])
            #expect(problems(group("[]", "servers_file: 'servers.txt'"), baseDirectory: directory)
                == [#"backends.app.servers_file: "servers.txt" lists no servers, and `servers` is empty; a group "#
                    + "needs at least one server"])
        }
        try withFiles([("servers.txt", "10.0.0.1:80\n")]) { directory in
            let entries = try servers(of: group("[]", "servers_file: 'servers.txt'"), baseDirectory: directory)
            #expect(entries.count == 1)
        }
    }

    @Test func fileNameMustBeAString() {
        #expect(problems(group(nil, "servers_file: 5"))
            == [#"backends.app.servers_file: expected the path of a server list file, such as "servers.txt", "#
                + "found the number 5"])
        #expect(problems(group(nil, "servers_file: ''"))
            == [#"backends.app.servers_file: expected the path of a server list file, such as "servers.txt", "#
                + #"found the string """#])
    }

    @Test func publicParserReadsATextOnItsOwn() throws {
        let entries = try ServerListFile.parse(text: Self.list, name: "web.list", defaultPort: 80).get()
        #expect(entries.count == 6)
        #expect(entries.first == ServerEntry(target: address("10.0.0.1", 8080), weight: 1, origin: "web.list:3"))
        let error = try #require(throws: ConfigError.self) {
            try ServerListFile.parse(text: "10.0.0.1:80\nbad_name\n10.0.0.2\n", name: "web.list", defaultPort: nil)
                .get()
        }
        #expect(error.issues.map(\.path) == ["web.list:2", "web.list:3"])
        #expect(error.description.hasPrefix(#"web.list:2: "bad_name" is not a server address: `bad_name` is not a "#))
    }

    @Test func publicParserShowsTheFirstProblemsAndCountsTheRest() throws {
        let text = (1...25).map { "bad_\($0)" }.joined(separator: "\n")
        let error = try #require(throws: ConfigError.self) {
            try ServerListFile.parse(text: text, name: "many.txt", defaultPort: 80).get()
        }
        #expect(error.issues.count == 21)
        #expect(error.issues.last
            == ConfigIssue(path: "many.txt", message: "5 more problems in this file are not shown"))
    }

    @Test func publicLoaderReportsAnUnreadableFile() throws {
        try withFiles([("servers.txt", "10.0.0.1:80 weight=4\n")]) { directory in
            let entries = try ServerListFile.load(path: directory + "/servers.txt", name: "servers.txt",
                                                  defaultPort: nil).get()
            #expect(entries == [ServerEntry(target: address("10.0.0.1", 80), weight: 4, origin: "servers.txt:1")])
            let error = try #require(throws: ConfigError.self) {
                try ServerListFile.load(path: directory + "/gone.txt", defaultPort: nil).get()
            }
            #expect(error.issues == [ConfigIssue(path: "", message: #"cannot read the server list "#
                + #""\#(directory)/gone.txt": No such file or directory"#)])
        }
    }
}
