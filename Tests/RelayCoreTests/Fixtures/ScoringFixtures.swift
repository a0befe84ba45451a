import RelayIO
@testable import RelayCore

/// A server of group `web` at 127.0.0.1:`port`; ids sort by port (all ports have four digits).
func scoringServer(_ port: UInt16, group: String = "web") -> ServerHandle {
    ServerHandle(group: group, address: try! SocketAddress(ip: "127.0.0.1", port: port))
}

/// Seed defaults, spelled out so a test reads as the arithmetic in its comment.
let defaultScoring = ScoringParameters()
let defaultProbe = ProbeParameters()

extension ServerScoreState {
    /// A successful probe with the default parameters.
    @discardableResult
    mutating func probeOK(_ milliseconds: Double) -> HealthTransition {
        recordProbe(success: true, latency: .nanoseconds(Int64(milliseconds * 1e6)), error: nil,
                    scoring: defaultScoring, probe: defaultProbe)
    }

    /// A failed probe with the default parameters.
    @discardableResult
    mutating func probeFailed(_ error: String = "connection refused") -> HealthTransition {
        recordProbe(success: false, latency: nil, error: error, scoring: defaultScoring, probe: defaultProbe)
    }

    /// The score with the default parameters.
    var defaultBreakdown: ScoreBreakdown { breakdown(defaultScoring) }
}

/// Whether two doubles agree to within rounding noise.
func nearly(_ lhs: Double?, _ rhs: Double, tolerance: Double = 1e-9) -> Bool {
    guard let lhs else { return false }
    return abs(lhs - rhs) <= tolerance
}
