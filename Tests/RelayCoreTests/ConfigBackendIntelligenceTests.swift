import Testing
@testable import RelayCore
import TestSupport

/// A config whose one group, `app`, has one server and the `extra` keys.
private func group(_ extra: String) -> String {
    #"{ backends: { app: { servers: ["10.0.0.1:80"], \#(extra) } } }"#
}

/// Group `app` as read from `text`.
private func app(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> BackendConfig {
    try #require(try RelayConfig.parse(text).backends["app"], sourceLocation: sourceLocation)
}

/// The only problem reported for `text`, as `path: message`.
private func onlyProblem(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> String {
    let issues = configIssues(text, sourceLocation: sourceLocation)
    #expect(issues.count == 1, "\(issues)", sourceLocation: sourceLocation)
    return issues.first.map { "\($0.path): \($0.message)" } ?? ""
}

@Suite(.computeBound) struct ConfigBackendIntelligenceTests {
    @Test func absentSectionsTakeTheSeedDefaults() throws {
        let defaults = try app(group(""))
        #expect(defaults.balance == .roundRobin)
        #expect(defaults.dnsRefresh == .seconds(30))
        #expect(defaults.defaultPort == nil)
        #expect(defaults.probe == ProbeParameters())
        #expect(defaults.scoring == ScoringParameters())
        #expect(defaults.selector == SelectorParameters())
        let empty = try app(group("""
            probe: { initial: {} }, selector: {},
            scoring: { latency: {}, jitter: {}, success_rate: {}, failure_penalty: {}, historical_bonus: {} }
            """))
        #expect(empty == defaults)
    }

    @Test func defaultsAreTheSeedNumbers() {
        let probe = ProbeParameters()
        #expect(probe.kind == .tcp)
        #expect((probe.interval, probe.timeout, probe.candidates) == (.seconds(15), .seconds(1), 10))
        #expect(probe.initialEnabled)
        #expect((probe.initialConcurrency, probe.initialTimeout) == (100, .milliseconds(500)))
        #expect((probe.rise, probe.fall) == (2, 3))
        let selector = SelectorParameters()
        #expect(selector.evaluationInterval == .seconds(30))
        #expect((selector.activeSetSize, selector.minScore, selector.improvementThreshold) == (3, 15, 5))
        #expect(selector.debounce == .seconds(60))
    }

    @Test(arguments: BalanceAlgorithm.allCases)
    func everyBalanceAlgorithmIsReadByItsName(algorithm: BalanceAlgorithm) throws {
        #expect(try app(group("balance: '\(algorithm.rawValue)'")).balance == algorithm)
    }

    @Test func balanceNamesAreTheDocumentedOnes() {
        #expect(BalanceAlgorithm.allCases.map(\.rawValue)
            == ["round_robin", "weighted", "least_connections", "random", "p2c_ewma", "hash", "least_requests"])
    }

    @Test func dnsRefreshIsADurationAboveZero() throws {
        #expect(try app(group("dns_refresh: '5m'")).dnsRefresh == .seconds(300))
        #expect(onlyProblem(group("dns_refresh: '0s'"))
            == #"backends.app.dns_refresh: expected a duration greater than zero, found the string "0s""#)
    }

    @Test func everyKeyIsReadIntoTheParameters() throws {
        let config = try app(group("""
            probe: {
              kind: "http", path: "/healthz?full=1", expect_status: "200-204", interval: "5s", timeout: "750ms",
              candidates: 4, initial: { enabled: false, concurrency: 8, timeout: "2s" }, rise: 1, fall: 5,
            },
            scoring: {
              latency: { max_score: 50, ewma_alpha: 0.5, base: "20ms", max_acceptable: "1s" },
              jitter: { max_score: 10, ewma_alpha: 1, base: "0s", max_acceptable: "100ms" },
              success_rate: { max_score: 40.5, ewma_alpha: 0.05 },
              failure_penalty: { base_penalty: 0, exponent_factor: 1, max_penalty: 60, recovery_per_check: 3 },
              historical_bonus: { max_bonus: 0, checks_per_point: 1, reset_after_failures: 2 },
            },
            selector: {
              evaluation_interval: "10s", active_set_size: 5, min_score: 0, debounce: "0s", improvement_threshold: 2.5,
            },
            """))
        var probe = ProbeParameters()
        probe.kind = .http(path: "/healthz?full=1", expectStatus: 200...204)
        probe.interval = .seconds(5)
        probe.timeout = .milliseconds(750)
        probe.candidates = 4
        probe.initialEnabled = false
        probe.initialConcurrency = 8
        probe.initialTimeout = .seconds(2)
        probe.rise = 1
        probe.fall = 5
        #expect(config.probe == probe)

        var scoring = ScoringParameters()
        scoring.latency.maxScore = 50
        scoring.latency.ewmaAlpha = 0.5
        scoring.latency.base = .milliseconds(20)
        scoring.latency.maxAcceptable = .seconds(1)
        scoring.jitter.maxScore = 10
        scoring.jitter.ewmaAlpha = 1
        scoring.jitter.base = .zero
        scoring.jitter.maxAcceptable = .milliseconds(100)
        scoring.successRate.maxScore = 40.5
        scoring.successRate.ewmaAlpha = 0.05
        scoring.failurePenalty.basePenalty = 0
        scoring.failurePenalty.exponentFactor = 1
        scoring.failurePenalty.maxPenalty = 60
        scoring.failurePenalty.recoveryPerSuccess = 3
        scoring.historicalBonus.maxBonus = 0
        scoring.historicalBonus.checksPerPoint = 1
        scoring.historicalBonus.resetAfterFailures = 2
        #expect(config.scoring == scoring)

        var selector = SelectorParameters()
        selector.evaluationInterval = .seconds(10)
        selector.activeSetSize = 5
        selector.minScore = 0
        selector.debounce = .zero
        selector.improvementThreshold = 2.5
        #expect(config.selector == selector)
    }

    @Test func probeKindsTakeTheirOwnDefaultsAndKeys() throws {
        #expect(try app(group("probe: { kind: 'http' }")).probe.kind == .http(path: "/", expectStatus: 200...399))
        #expect(try app(group("probe: { kind: 'http', expect_status: 204 }")).probe.kind
            == .http(path: "/", expectStatus: 204...204))
        #expect(try app(group("probe: { kind: 'udp' }")).probe.kind == .udp(payload: Array("ping".utf8)))
        #expect(try app(group("probe: { kind: 'udp', payload: 'héllo' }")).probe.kind
            == .udp(payload: Array("héllo".utf8)))
        #expect(try app(group("probe: { kind: 'tcp' }")).probe.kind == .tcp)
    }

    @Test func keysOfAnotherProbeKindAreRejected() {
        #expect(onlyProblem(group("probe: { path: '/healthz' }"))
            == "backends.app.probe.path: only an http probe takes `path`, and this probe's kind is `tcp` (the "
            + #"default, since no udp listener uses this group); remove this key or set `kind: "http"`"#)
        #expect(onlyProblem(group("probe: { kind: 'udp', expect_status: 200 }"))
            == "backends.app.probe.expect_status: only an http probe takes `expect_status`, and this probe's kind "
            + #"is `udp`; remove this key or set `kind: "http"`"#)
        #expect(onlyProblem(group("probe: { kind: 'http', payload: 'ping' }"))
            == "backends.app.probe.payload: only a udp probe takes `payload`, and this probe's kind is `http`; "
            + #"remove this key or set `kind: "udp"`"#)
    }

    @Test func badProbeKindIsTheOnlyProblemReported() {
        #expect(onlyProblem(group("probe: { kind: 'icmp', path: '/', payload: 'x' }"))
            == #"backends.app.probe.kind: expected one of `tcp`, `http`, `udp`, found the string "icmp""#)
    }

    @Test(arguments: [
        ("interval: '0s'", #"interval: expected a duration greater than zero, found the string "0s""#),
        ("timeout: 1", #"timeout: expected a duration with a unit, such as "250ms", "15s" or "1m30s", found the "#
            + #"number 1; write a unit, e.g. "1s""#),
        ("candidates: 0", "candidates: expected an integer of at least 1, found the number 0"),
        ("initial: { concurrency: 10001 }",
         "initial.concurrency: expected an integer from 1 to 10000, found the number 10001"),
        ("initial: { concurrency: 0 }", "initial.concurrency: expected an integer from 1 to 10000, found the number 0"),
        ("initial: { timeout: '0s' }",
         #"initial.timeout: expected a duration greater than zero, found the string "0s""#),
        ("initial: { enabled: 'yes' }", #"initial.enabled: expected `true` or `false`, found the string "yes""#),
        ("rise: 0", "rise: expected an integer from 1 to 100, found the number 0"),
        ("fall: 101", "fall: expected an integer from 1 to 100, found the number 101"),
        ("kind: 'http', path: 'healthz'",
         #"path: expected a path starting with "/", such as "/healthz", found the string "healthz""#),
        ("kind: 'http', path: '/a b'", #"path: expected a path starting with "/", such as "/healthz", found the "#
            + #"string "/a b"; spaces, control characters and non-ASCII characters must be percent-encoded (a "#
            + "space is %20)"),
        ("kind: 'http', expect_status: 600", #"expect_status: expected a status code from 100 to 599, or a range "#
            + #"such as "200-399", found the number 600"#),
        ("kind: 'http', expect_status: '2xx'", #"expect_status: expected a status code from 100 to 599, or a range "#
            + #"such as "200-399", found the string "2xx""#),
        ("kind: 'http', expect_status: '399-200'", #"expect_status: expected a status code from 100 to 599, or a "#
            + #"range such as "200-399", found the string "399-200"; write the lower code first"#),
        ("kind: 'udp', payload: ''",
         #"payload: expected a non-empty string of at most 65507 bytes (sent as UTF-8), found the string """#),
        ("colour: 'red'", "colour: unknown key; the keys here are `kind`, `path`, `expect_status`, `payload`, "
            + "`payload_hex`, `interval`, `timeout`, `candidates`, `initial`, `rise`, `fall`, `send_proxy`"),
    ] as [(String, String)])
    func badProbeValuesAreRejected(keys: String, problem: String) {
        #expect(onlyProblem(group("probe: { \(keys) }")) == "backends.app.probe.\(problem)")
    }

    @Test func statusRangeMayBeOneCodeWrittenAsAString() throws {
        #expect(try app(group("probe: { kind: 'http', expect_status: '200' }")).probe.kind
            == .http(path: "/", expectStatus: 200...200))
    }

    @Test(arguments: [
        ("latency: { ewma_alpha: 0 }",
         "latency.ewma_alpha: expected a number greater than 0 and at most 1, found the number 0"),
        ("jitter: { ewma_alpha: 1.5 }",
         "jitter.ewma_alpha: expected a number greater than 0 and at most 1, found the number 1.5"),
        ("success_rate: { ewma_alpha: '0.5' }", "success_rate.ewma_alpha: expected a number greater than 0 and at "
            + #"most 1, found the string "0.5"; write the number without quotes"#),
        ("latency: { max_score: -1 }", "latency.max_score: expected a number of at least 0, found the number -1"),
        ("success_rate: { max_score: Infinity }",
         "success_rate.max_score: expected a number of at least 0, found the number inf"),
        ("failure_penalty: { exponent_factor: 0.5 }",
         "failure_penalty.exponent_factor: expected a number of at least 1, found the number 0.5"),
        ("failure_penalty: { recovery_per_check: -2 }",
         "failure_penalty.recovery_per_check: expected a number of at least 0, found the number -2"),
        ("historical_bonus: { checks_per_point: 0 }",
         "historical_bonus.checks_per_point: expected an integer of at least 1, found the number 0"),
        ("historical_bonus: { reset_after_failures: 1.5 }",
         "historical_bonus.reset_after_failures: expected an integer of at least 1, found the number 1.5"),
        ("latency: { base: '1s' }", "latency.base: expected a duration shorter than `max_acceptable` (800ms, its "
            + #"default), found the string "1s""#),
        ("latency: { max_acceptable: '20ms' }", "latency.max_acceptable: expected a duration longer than `base` "
            + #"(50ms, its default), found the string "20ms""#),
        ("jitter: { base: '10ms', max_acceptable: '10ms' }", "jitter.max_acceptable: expected a duration longer "
            + #"than `base` (10ms), found the string "10ms""#),
        ("latency: { max_acceptable: '0s' }",
         #"latency.max_acceptable: expected a duration greater than zero, found the string "0s""#),
        ("latency: { ewma_alhpa: 0.3 }", "latency.ewma_alhpa: unknown key; did you mean `ewma_alpha`?"),
        ("weights: {}", "weights: unknown key; the keys here are `latency`, `jitter`, `success_rate`, "
            + "`failure_penalty`, `historical_bonus`"),
    ] as [(String, String)])
    func badScoringValuesAreRejected(keys: String, problem: String) {
        #expect(onlyProblem(group("scoring: { \(keys) }")) == "backends.app.scoring.\(problem)")
    }

    @Test(arguments: [
        ("evaluation_interval: '0s'",
         #"evaluation_interval: expected a duration greater than zero, found the string "0s""#),
        ("active_set_size: 0", "active_set_size: expected an integer of at least 1, found the number 0"),
        ("min_score: -0.5", "min_score: expected a number of at least 0, found the number -0.5"),
        ("debounce: '-1s'",
         #"debounce: expected a duration of zero or more, found the string "-1s"; it cannot be negative"#),
        ("improvement_threshold: -1", "improvement_threshold: expected a number of at least 0, found the number -1"),
    ] as [(String, String)])
    func badSelectorValuesAreRejected(keys: String, problem: String) {
        #expect(onlyProblem(group("selector: { \(keys) }")) == "backends.app.selector.\(problem)")
    }

    @Test func sectionsThatAreNotObjectsAreRejected() {
        #expect(onlyProblem(group("probe: 'tcp'"))
            == #"backends.app.probe: expected an object, found the string "tcp""#)
        #expect(onlyProblem(group("scoring: []")) == "backends.app.scoring: expected an object, found an empty array")
    }
}
