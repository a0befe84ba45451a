import RelayProtocol

/// The LinkMonitor's knobs (a multipath-client listener's keys), with the seed's defaults.
///
/// The seed (MPUDP) has no defaults of its own and panics on a zero interval; these are the values of its example
/// configuration, which its users run, except the heartbeat interval (the seed's example sends one a second;
/// relayd one every 200 ms, so a dead link is noticed in about a second) and the keys the seed does not have
/// (`heartbeat_timeout`, `loss_window`, `redundancy`, `redundancy_loss_threshold`). `validate` names the key of
/// every value that cannot work instead of panicking.
public struct MultipathParameters: Sendable, Equatable {
    /// `heartbeat_interval`: each link gets a heartbeat this often.
    public var heartbeatInterval: Duration = .milliseconds(200)
    /// `heartbeat_timeout`: the longest a heartbeat waits for its answer; the seed's fixed 2 s. A heartbeat
    /// counts as lost earlier, at the link's retransmission timeout (smoothed RTT + 4 × variance) but never
    /// before one interval; an answer that comes later still measures the RTT and shows the link alive. Also the
    /// length of adaptive redundancy after a failover.
    public var heartbeatTimeout: Duration = .seconds(2)
    /// `loss_window`: loss is the share of the last this-many answered-or-lost heartbeats that were lost
    /// (10 s at the default interval).
    public var lossWindow: Int = 50
    /// `loss_weight`: score points per percent of loss.
    public var lossWeight: Double = 5
    /// `rtt_weight`: score points per millisecond of smoothed RTT.
    public var rttWeight: Double = 1
    /// `switch_threshold`: a link replaces the active one only when its score is lower by at least this much.
    public var switchThreshold: Double = 25
    /// `throughput_threshold_kbps`: no switch for a better score while the active link carries this many
    /// kilobits a second or more (failover after `max_consecutive_fail` ignores it).
    public var throughputThresholdKbps: Double = 500
    /// `max_consecutive_fail`: this many unanswered heartbeats in a row mark a link down, and traffic on it
    /// moves at once.
    public var maxConsecutiveFail: Int = 5
    /// `dns_refresh`: how often link names are resolved again (a link that goes down is resolved at once).
    public var dnsRefresh: Duration = .seconds(600)
    /// `redundancy`: when DATA frames go on more than one link.
    public var redundancy: MultipathRedundancy = .adaptive
    /// `redundancy_loss_threshold`: adaptive redundancy turns on while the active link loses more than this
    /// percentage of heartbeats.
    public var redundancyLossThreshold: Double = 2

    /// The defaults.
    public init() {}

    /// Every value that cannot work, as (key, message) pairs in key order; empty when all is well.
    public func validate() -> [(key: String, message: String)] {
        var issues: [(key: String, message: String)] = []
        func check(_ ok: Bool, _ key: String, _ message: String) {
            if !ok { issues.append((key, "\(key) \(message)")) }
        }
        check(heartbeatInterval > .zero, "heartbeat_interval", "must be > 0")
        if heartbeatTimeout <= .zero {
            issues.append(("heartbeat_timeout", "heartbeat_timeout must be > 0"))
        } else {
            check(heartbeatTimeout >= heartbeatInterval, "heartbeat_timeout",
                  "must be at least heartbeat_interval (\(DurationParser.format(heartbeatInterval)))")
        }
        check((1...10_000).contains(lossWindow), "loss_window", "must be between 1 and 10000 heartbeats")
        check(lossWeight.isFinite && lossWeight >= 0, "loss_weight", "must be a number ≥ 0")
        check(rttWeight.isFinite && rttWeight >= 0, "rtt_weight", "must be a number ≥ 0")
        if lossWeight == 0, rttWeight == 0 {
            issues.append(("rtt_weight", "loss_weight and rtt_weight cannot both be 0: every link would score the same"))
        }
        check(switchThreshold.isFinite && switchThreshold > 0, "switch_threshold", "must be > 0")
        check(throughputThresholdKbps.isFinite && throughputThresholdKbps > 0, "throughput_threshold_kbps",
              "must be > 0 (to switch whatever the traffic, set it above the links' capacity)")
        check(maxConsecutiveFail >= 1, "max_consecutive_fail", "must be ≥ 1")
        check(dnsRefresh > .zero, "dns_refresh", "must be > 0")
        check(redundancyLossThreshold.isFinite && (0...100).contains(redundancyLossThreshold),
              "redundancy_loss_threshold", "must be a percentage between 0 and 100")
        return issues
    }

    /// Every problem with a listener's `links`, keyed `links`, `links[i].name` or `links[i].priority`.
    public static func validate(links: [MultipathLinkSpec]) -> [(key: String, message: String)] {
        var issues: [(key: String, message: String)] = []
        if links.isEmpty { issues.append(("links", "links must list at least one link")) }
        if links.count > MultipathWire.maxLinks {
            issues.append(("links", "links may list at most \(MultipathWire.maxLinks) links, not \(links.count)"))
        }
        var seen: [String: Int] = [:]
        for (index, link) in links.enumerated() {
            let key = "links[\(index)]"
            if link.name.isEmpty {
                issues.append(("\(key).name", "\(key).name must not be empty"))
            } else if let first = seen[link.name] {
                issues.append(("\(key).name", "\(key).name '\(link.name)' is already the name of links[\(first)]"))
            } else {
                seen[link.name] = index
            }
            if !(link.priority.isFinite && link.priority >= 0) {
                issues.append(("\(key).priority", "\(key).priority must be a number ≥ 0"))
            }
        }
        return issues
    }
}
