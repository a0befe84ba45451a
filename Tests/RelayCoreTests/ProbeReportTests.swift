import Testing
@testable import RelayCore

/// The exact text of `relayd probe` and `relayd probe --json`, as Foundation's `String(format:)` and
/// `JSONEncoder` wrote it before the report was written without Foundation.
@Suite struct ProbeReportTests {
    static let rows = [
        ProbeReportRow(backend: "web", server: "127.0.0.1:9001", healthy: true, state: "up", latencyMs: 0.125,
                       jitterMs: 2.675, successRate: 0.995, score: 87.25, error: nil, probes: 3),
        ProbeReportRow(backend: "web", server: "[::1]:9002", healthy: true, state: "up", latencyMs: 12.5,
                       jitterMs: nil, successRate: 1, score: 100, error: "timed out", probes: 3),
        ProbeReportRow(backend: "dns", server: "10.0.0.7:53", healthy: false, state: "down", latencyMs: nil,
                       jitterMs: nil, successRate: 0, score: 0, error: "connect: Connection refused (errno 111)",
                       probes: 3),
    ]

    @Test func tablePadsColumnsAndRoundsLikePrintf() {
        #expect(ProbeReport.table(Self.rows) == """
            BACKEND  SERVER          STATE  LATENCY  JITTER  SUCCESS  SCORE  WHY DOWN
            web      127.0.0.1:9001  up     0.12ms   2.67ms  100%     87.2
            web      [::1]:9002      up     12.50ms  -       100%     100.0
            dns      10.0.0.7:53     down   -        -       0%       0.0    connect: Connection refused (errno 111)

            """)
    }

    @Test func jsonWritesEveryKeyInAlphabeticalOrder() {
        #expect(ProbeReport.json(Array(Self.rows[1...2])) == """
            [
              {
                "backend" : "web",
                "error" : "timed out",
                "healthy" : true,
                "jitter_ms" : null,
                "latency_ms" : 12.5,
                "probes" : 3,
                "score" : 100,
                "server" : "[::1]:9002",
                "state" : "up",
                "success_rate" : 1
              },
              {
                "backend" : "dns",
                "error" : "connect: Connection refused (errno 111)",
                "healthy" : false,
                "jitter_ms" : null,
                "latency_ms" : null,
                "probes" : 3,
                "score" : 0,
                "server" : "10.0.0.7:53",
                "state" : "down",
                "success_rate" : 0
              }
            ]

            """)
    }

    @Test(arguments: [
        (0.125, 2, "0.12"), (0.375, 2, "0.38"), (2.5, 0, "2"), (3.5, 0, "4"), (1.005, 2, "1.00"), (99.95, 1, "100.0"),
        (0.995 * 100, 0, "100"), (12, 1, "12.0"), (-0.0, 2, "-0.00"), (-0.001, 2, "-0.00"), (0, 0, "0"),
    ] as [(Double, Int, String)])
    func fixedDecimalsRoundTheExactValueHalfToEven(value: Double, decimals: Int, expected: String) {
        #expect(value.fixed(decimals) == expected)
    }
}
