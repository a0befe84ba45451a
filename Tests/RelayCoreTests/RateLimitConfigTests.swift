import Testing
@testable import RelayCore

/// A config with one listener of `proto` whose `rate_limit` is `rateLimit`.
private func listener(_ proto: String = "tcp", rateLimit: String) -> String {
    """
    {
      listeners: [ { name: "l", protocol: "\(proto)", listen: "127.0.0.1:8080", backend: "b",
                     rate_limit: \(rateLimit) } ],
      backends: { b: { servers: ["127.0.0.1:9001"] } },
    }
    """
}

/// Every problem reported for `text`, as `path: message`.
private func problems(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String] {
    configIssues(text, sourceLocation: sourceLocation).map { "\($0.path): \($0.message)" }
}

@Suite struct RateLimitConfigTests {
    @Test func everyPartIsOptional_andBurstDefaultsToRate() throws {
        let config = try RelayConfig.parse(listener("udp", rateLimit: """
            { per_ip: { rate: 50, interval: "1s", burst: 100 }, total: { rate: 10000, interval: "1s" },
              packets_per_ip: { rate: 5000, interval: "250ms", burst: 10000 } }
            """))
        let limits = config.listeners[0].rateLimit
        #expect(limits.perIP == RateLimit(rate: 50, interval: .seconds(1), burst: 100))
        #expect(limits.total == RateLimit(rate: 10_000, interval: .seconds(1), burst: 10_000))
        #expect(limits.packetsPerIP == RateLimit(rate: 5000, interval: .milliseconds(250), burst: 10_000))
        let partial = try RelayConfig.parse(listener(rateLimit: #"{ total: { rate: 5, interval: "1m" } }"#))
        #expect(partial.listeners[0].rateLimit == RateLimitConfig(total: RateLimit(rate: 5, interval: .seconds(60))))
        let empty = try RelayConfig.parse(listener(rateLimit: "{}"))
        #expect(empty.listeners[0].rateLimit == .none && !empty.listeners[0].rateLimit.isEnabled)
    }

    @Test func absentSectionLimitsNothing() throws {
        let config = try RelayConfig.parse(#"{ listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:1" } ] }"#)
        #expect(config.listeners[0].rateLimit == .none)
    }

    @Test func packetsPerIPOnATCPListenerIsAnErrorNamingTheKey() {
        #expect(problems(listener(rateLimit: #"{ packets_per_ip: { rate: 5, interval: "1s" } }"#)) == [
            "listeners[0].rate_limit.packets_per_ip: only UDP listeners take `packets_per_ip`, which limits "
                + "datagrams; a TCP listener's new connections are limited by `per_ip` and `total`",
        ])
        let echo = #"{ listeners: [ { name: "e", protocol: "echo", listen: "127.0.0.1:1", "#
            + #"rate_limit: { packets_per_ip: { rate: 5, interval: "1s" } } } ] }"#
        #expect(problems(echo).map { $0.prefix(while: { $0 != ":" }) } == ["listeners[0].rate_limit.packets_per_ip"])
    }

    @Test func outOfRangeValuesAreErrorsWithTheirPaths() {
        let found = problems(listener("udp", rateLimit: """
            { per_ip: { rate: 0, interval: "0s", burst: 0 },
              total: { rate: 1.5, interval: "2h", burst: 2000000 },
              packets_per_ip: { rate: "5", interval: 1 } }
            """))
        #expect(found == [
            "listeners[0].rate_limit.per_ip.rate: expected an integer from 1 to 1000000000, found the number 0",
            "listeners[0].rate_limit.per_ip.interval: expected a duration greater than zero, found the string \"0s\"",
            "listeners[0].rate_limit.per_ip.burst: expected an integer from 1 to 1000000, found the number 0",
            "listeners[0].rate_limit.total.rate: expected an integer from 1 to 1000000000, found the number 1.5",
            "listeners[0].rate_limit.total.interval: expected a duration from 1ns to 1h, found the string \"2h\"",
            "listeners[0].rate_limit.total.burst: expected an integer from 1 to 1000000, found the number 2000000",
            "listeners[0].rate_limit.packets_per_ip.rate: expected an integer from 1 to 1000000000, found the "
                + "string \"5\"; write the number without quotes",
            "listeners[0].rate_limit.packets_per_ip.interval: expected a duration with a unit, such as \"250ms\", "
                + "\"15s\" or \"1m30s\", found the number 1; write a unit, e.g. \"1s\"",
        ])
    }

    @Test func rateAndIntervalAreRequired() {
        let found = problems(listener(rateLimit: "{ per_ip: { burst: 10 } }"))
        #expect(found.map { $0.prefix(while: { $0 != ":" }) } == [
            "listeners[0].rate_limit.per_ip.rate", "listeners[0].rate_limit.per_ip.interval",
        ])
        #expect(found.allSatisfy { $0.contains("missing; this key is required") })
    }

    @Test func unknownKeysAreErrorsWithASuggestion() {
        #expect(problems(listener(rateLimit: #"{ per_IP: { rate: 1, interval: "1s" } }"#)) == [
            "listeners[0].rate_limit.per_IP: unknown key; did you mean `per_ip`?",
        ])
        #expect(problems(listener(rateLimit: #"{ total: { rate: 1, interval: "1s", brust: 3 } }"#)) == [
            "listeners[0].rate_limit.total.brust: unknown key; did you mean `burst`?",
        ])
    }

    @Test func changedRateLimitUpdatesTheListenerInPlace() throws {
        let before = try RelayConfig.parse(listener(rateLimit: #"{ per_ip: { rate: 1, interval: "1s" } }"#))
        let after = try RelayConfig.parse(listener(rateLimit: #"{ per_ip: { rate: 2, interval: "1s" } }"#))
        let plan = ReloadPlan(from: before, to: after)
        #expect(plan.updatedListeners == ["l"])
        #expect(plan.reboundListeners.isEmpty)
    }
}
