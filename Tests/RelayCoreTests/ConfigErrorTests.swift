import Testing
@testable import RelayCore

/// A config that is valid, so each test can break exactly one thing in it.
private func validConfig(listeners: String = #"{ name: "web", listen: "127.0.0.1:8080", backend: "echo" }"#,
                         backends: String = #"echo: { servers: ["127.0.0.1:9001"] }"#,
                         extra: String = "") -> String {
    """
    {
      listeners: [
        \(listeners)
      ],
      backends: {
        \(backends)
      },
      \(extra)
    }
    """
}

/// A valid config whose one listener, `web`, also has `extra` keys.
private func webListener(with extra: String) -> String {
    validConfig(listeners: #"{ name: "web", listen: "127.0.0.1:8080", backend: "echo", \#(extra) }"#)
}

/// The text every bad-duration message starts with.
private let durationWanted = #"expected a duration with a unit, such as "250ms", "15s" or "1m30s""#

/// The only problem reported for `text`, as `path: message`, without line numbers.
private func onlyIssue(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let issues = configIssues(text, sourceLocation: sourceLocation)
    #expect(issues.count == 1, "\(issues)", sourceLocation: sourceLocation)
    guard let issue = issues.first else { return "" }
    return issue.path.isEmpty ? issue.message : "\(issue.path): \(issue.message)"
}

@Suite struct ConfigErrorTests {
    @Test func validBaseConfigParses() throws {
        _ = try RelayConfig.parse(validConfig())
    }

    @Test func unknownKeyInSecondListenerIsNamedByPathWithSuggestion() {
        let text = validConfig(listeners: """
            { name: "web", listen: "127.0.0.1:8080", backend: "echo" },
            { name: "other", listen: "127.0.0.1:8081", backend: "echo", max_conections: 5 },
            """)
        #expect(onlyIssue(text) == "listeners[1].max_conections: unknown key; did you mean `max_connections`?")
    }

    @Test func unknownKeyFarFromAnyKnownKeyListsTheKnownKeys() {
        #expect(onlyIssue("{ log: { colour: true } }")
            == "log.colour: unknown key; the keys here are `level`, `format`, `access`, `access_file`, `output`, `modules`")
    }

    @Test func unknownTopLevelKeySuggestsTheKnownOne() {
        #expect(onlyIssue("{ listner: [] }") == "listner: unknown key; did you mean `listeners`?")
    }

    @Test func wrongTypesSayWhatWasFoundAndWhatIsExpected() {
        #expect(onlyIssue(webListener(with: #"max_connections: "100""#))
            == #"listeners[0].max_connections: expected an integer of at least 1, found the string "100"; "#
            + "write the number without quotes")
        #expect(onlyIssue(webListener(with: "tcp_nodelay: 1"))
            == "listeners[0].tcp_nodelay: expected `true` or `false`, found the number 1")
        #expect(onlyIssue("{ listeners: { name: 'web' } }") == "listeners: expected an array, found an object")
        #expect(onlyIssue("{ io: { loops: 1.5 } }")
            == "io.loops: expected an integer from 0 to 256, found the number 1.5")
        #expect(onlyIssue("[1]") == "expected an object, found an array")
        #expect(onlyIssue("[]") == "expected an object, found an empty array")
    }

    @Test func outOfRangeIntegersAreRejected() {
        #expect(onlyIssue(webListener(with: "backlog: 0"))
            == "listeners[0].backlog: expected an integer from 1 to 65535, found the number 0")
        #expect(onlyIssue("{ io: { loops: 257 } }")
            == "io.loops: expected an integer from 0 to 256, found the number 257")
        #expect(onlyIssue(validConfig(backends: #"echo: { servers: ["127.0.0.1:9001"], max_connect_attempts: -1 }"#))
            == "backends.echo.max_connect_attempts: expected an integer of at least 0, found the number -1")
    }

    @Test func badDurationsExplainTheSyntax() {
        #expect(onlyIssue("{ drain_timeout: 30 }")
            == #"drain_timeout: \#(durationWanted), found the number 30; write a unit, e.g. "30s""#)
        #expect(onlyIssue("{ drain_timeout: '30' }")
            == #"drain_timeout: \#(durationWanted), found the string "30"; write a unit, e.g. "30s""#)
        #expect(onlyIssue("{ drain_timeout: '-1s' }")
            == #"drain_timeout: expected a duration of zero or more, found the string "-1s"; it cannot be negative"#)
        #expect(onlyIssue("{ drain_timeout: '5 minutes' }")
            == #"drain_timeout: \#(durationWanted), found the string "5 minutes"; "#
            + "the units are h, m, s, ms, us and ns")
        #expect(onlyIssue(validConfig(backends: #"echo: { servers: ["127.0.0.1:9001"], connect_timeout: "0s" }"#))
            == #"backends.echo.connect_timeout: expected a duration greater than zero, found the string "0s""#)
    }

    @Test func zeroDrainTimeoutIsAllowed() throws {
        #expect(try RelayConfig.parse("{ drain_timeout: '0s' }").drainTimeout == .zero)
    }

    @Test(arguments: [
        ("1.2.3.4", "the port is missing; write host:port, as in 127.0.0.1:8080"),
        ("[::1]", "the port is missing after `]`, as in [::1]:8080"),
        ("localhost:80",
         "`localhost` is not an IP address (host names are not supported yet; write an address such as 127.0.0.1)"),
        ("127.0.0.1:70000", "the port 70000 is out of range (0 to 65535)"),
    ])
    func badListenAddressesAreRejectedWithTheReason(address: String, reason: String) {
        let text = validConfig(listeners: #"{ name: "web", listen: "\#(address)", backend: "echo" }"#)
        #expect(onlyIssue(text)
            == #"listeners[0].listen: expected host:port such as "127.0.0.1:8080" or "[::1]:8080", "#
            + #"found the string "\#(address)"; \#(reason)"#)
    }

    @Test func badServerAddressIsNamedByItsIndex() {
        let text = validConfig(backends: #"echo: { servers: ["127.0.0.1:9001", "127.0.0:80"] }"#)
        #expect(onlyIssue(text) == #"backends.echo.servers[1]: expected a server address such as "10.0.0.1:8080", "#
            + #""[2001:db8::1]:8080", "app.internal:8080" or "10.0.0.0/30", found the string "127.0.0:80"; "#
            + "`127.0.0` is not a valid IPv4 address")
    }

    @Test func serverPortZeroIsRejected() {
        #expect(onlyIssue(validConfig(backends: #"echo: { servers: ["127.0.0.1:0"] }"#))
            .hasSuffix(#"found the string "127.0.0.1:0"; the port 0 is out of range (1 to 65535)"#))
    }

    @Test func emptyServerListIsRejected() {
        #expect(onlyIssue(validConfig(backends: "echo: { servers: [] }"))
            == "backends.echo.servers: expected at least one server address, found an empty array")
    }

    @Test func missingRequiredKeysAreReportedAtTheirPath() {
        let issues = configIssues("{ listeners: [{ protocol: 'echo' }], backends: { app: {} } }")
        #expect(issues.map(\.path) == ["listeners[0].name", "listeners[0].listen", "backends.app.servers"])
        #expect(issues.allSatisfy { $0.message.hasPrefix("missing; this key is required") })
    }

    @Test func tcpListenerNamingNoGroupGetsTheClosestGroup() {
        let text = validConfig(listeners: #"{ name: "web", listen: "127.0.0.1:8080", backend: "ecoh" }"#)
        #expect(onlyIssue(text) == "listeners[0].backend: no backend group is named `ecoh`; did you mean `echo`?")
        let far = validConfig(listeners: #"{ name: "web", listen: "127.0.0.1:8080", backend: "payments" }"#)
        #expect(onlyIssue(far) == "listeners[0].backend: no backend group is named `payments`; the groups are `echo`")
    }

    @Test func tcpListenerWithoutBackendIsRejected() {
        #expect(onlyIssue(validConfig(listeners: #"{ name: "web", listen: "127.0.0.1:8080" }"#))
            == "listeners[0].backend: missing; a tcp listener needs the name of a group in `backends` to relay to")
    }

    @Test func echoListenerWithBackendIsRejected() {
        let text = validConfig(listeners: #"{ name: "e", protocol: "echo", listen: "127.0.0.1:9000", backend: "x" }"#)
        #expect(onlyIssue(text)
            == "listeners[0].backend: an echo listener answers by itself and takes no backend; remove this key")
    }

    @Test func duplicateListenerNamesAreRejected() {
        let text = validConfig(listeners: """
            { name: "web", listen: "127.0.0.1:8080", backend: "echo" },
            { name: "web", listen: "127.0.0.1:8081", backend: "echo" },
            """)
        #expect(onlyIssue(text)
            == "listeners[1].name: the name `web` is already used by listeners[0]; listener names must be unique")
    }

    @Test func samePortOnSameHostIsRejectedButPortZeroIsNot() throws {
        let clash = validConfig(listeners: """
            { name: "a", listen: "127.0.0.1:8080", backend: "echo" },
            { name: "b", protocol: "echo", listen: "127.0.0.1:8080" },
            """)
        #expect(onlyIssue(clash)
            == "listeners[1].listen: 127.0.0.1:8080 is already used by listener `a` (listeners[0]); "
            + "two listeners cannot bind the same port")
        _ = try RelayConfig.parse(validConfig(listeners: """
            { name: "a", protocol: "echo", listen: "127.0.0.1:0" },
            { name: "b", protocol: "echo", listen: "127.0.0.1:0" },
            { name: "c", protocol: "echo", listen: "127.0.0.2:8080" },
            { name: "d", protocol: "echo", listen: "127.0.0.1:8080" },
            { name: "e", protocol: "echo", listen: "[::]:8080" },
            """))
    }

    @Test func wildcardOverlapsSpecificAddressOfTheSameFamily() {
        let text = validConfig(listeners: """
            { name: "all", protocol: "echo", listen: "0.0.0.0:8080" },
            { name: "local", protocol: "echo", listen: "127.0.0.1:8080" },
            """)
        #expect(onlyIssue(text) == "listeners[1].listen: 127.0.0.1:8080 overlaps 0.0.0.0:8080 of listener `all` "
            + "(listeners[0]); two listeners cannot bind the same port")
    }

    @Test func unsupportedChoicesListTheSupportedOnes() {
        let balances = "one of `round_robin`, `weighted`, `least_connections`, `random`, `p2c_ewma`, `hash`, `least_requests`"
        #expect(onlyIssue(validConfig(backends: #"echo: { servers: ["127.0.0.1:9001"], balance: "least_conn" }"#))
            == #"backends.echo.balance: expected \#(balances), found the string "least_conn""#)
        #expect(onlyIssue(validConfig(backends: #"echo: { servers: ["127.0.0.1:9001"], balance: "round-robin" }"#))
            == #"backends.echo.balance: expected \#(balances), found the string "round-robin"; "#
            + "did you mean `round_robin`?")
        #expect(onlyIssue(#"{ listeners: [{ name: "u", protocol: "sctp", listen: "127.0.0.1:53" }] }"#)
            == #"listeners[0].protocol: expected one of `tcp`, `echo`, `http`, `udp`, `reliable-udp`, "#
                + #"`multipath-client`, `multipath-server`, "#
                + #"found the string "sctp"; did you mean `http`?"#)
        #expect(onlyIssue("{ log: { level: 'verbose' } }")
            == #"log.level: expected one of `trace`, `debug`, `info`, `warn`, `error`, found the string "verbose""#)
    }

    @Test func badGroupNameIsReportedAtTheGroup() {
        let text = validConfig(backends: #"echo: { servers: ["10.0.0.1:1"] }, "my group": { servers: ["10.0.0.1:2"] }"#)
        #expect(onlyIssue(text) == #"backends["my group"]: expected a name made of letters, digits, `_`, `.` and `-`, "#
            + #"found the string "my group""#)
    }

    @Test func badBufferSizesAreRejected() {
        let wanted = "expected a size from 4KiB to 16MiB (4096 to 16777216 bytes), such as 16KiB or 16384"
        #expect(onlyIssue("{ io: { buffer_size: '1GiB' } }") == #"io.buffer_size: \#(wanted), found the string "1GiB""#)
        #expect(onlyIssue("{ io: { buffer_size: 100 } }") == "io.buffer_size: \(wanted), found the number 100")
        #expect(onlyIssue("{ io: { buffer_size: '64KB' } }")
            == #"io.buffer_size: \#(wanted), found the string "64KB"; the units are B, KiB, MiB and GiB"#)
    }

    @Test func keyWrittenTwiceIsRejectedAtTheSecondOne() {
        let issues = configIssues("{\n  drain_timeout: '1s',\n  drain_timeout: '2s',\n}")
        #expect(issues == [ConfigIssue(path: "drain_timeout",
                                       message: "this key is already set at line 2, column 3; keep only one of them",
                                       line: 3, column: 3)])
    }

    @Test func allProblemsAreReportedTogetherInFileOrderWithLines() throws {
        let issues = configIssues("""
            {
              listeners: [
                { name: "web", listen: "127.0.0.1", backend: "nope", backlog: 0 },
                { name: "web", protocol: "echo", listen: "127.0.0.1:9001", colour: "red" },
              ],
              drain_timeout: 30,
              io: { loops: -1 },
              logs: {},
            }
            """)
        #expect(issues.map(\.path) == [
            "listeners[0].listen", "listeners[0].backend", "listeners[0].backlog",
            "listeners[1].name", "listeners[1].colour",
            "drain_timeout", "io.loops", "logs",
        ])
        #expect(issues.map(\.line) == [3, 3, 3, 4, 4, 6, 7, 8])
        try #require(issues.count == 8)
        #expect(issues[1].message == "no backend group is named `nope`; `backends` defines no groups")
        #expect(issues[4].message == "unknown key; the keys here are `name`, `listen`, `protocol`, `backend`, "
            + "`max_connections`, `max_connections_per_ip`, `tcp_nodelay`, `keepalive`, `backlog`, `idle_timeout`, "
            + "`first_byte_timeout`, `accept_proxy`, `proxy_trusted`, `routes`, "
            + "`max_flows`, `responses`, `rate_limit`")
        #expect(issues[7].message == "unknown key; did you mean `log`?")
    }

    @Test func errorDescriptionHasOneLinePerIssue() {
        let error = ConfigError(issues: [
            ConfigIssue(path: "listeners[0].listen", message: "expected host:port", line: 3, column: 5),
            ConfigIssue(path: "", message: "invalid JSON5"),
        ])
        #expect(error.description == "listeners[0].listen: expected host:port (line 3, column 5)\ninvalid JSON5")
    }
}
