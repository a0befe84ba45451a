@testable import RelayCore
import RelayProtocol

/// Milliseconds as the monotonic nanoseconds the multipath state machines take.
func ms(_ milliseconds: UInt64) -> UInt64 { milliseconds * 1_000_000 }

/// Drives a `LinkMonitorState` over scripted links with an injected clock: each heartbeat's answer arrives one
/// RTT after it was sent, or never when the link is dead; each link carries a set traffic rate, reported at every
/// tick as a cumulative count. Every action is logged with its time.
struct LinkMonitorDriver {
    var state: LinkMonitorState
    /// The clock.
    private(set) var now: UInt64
    /// Each link's round-trip time in ns; nil while the link answers nothing.
    var rtt: [UInt64?]
    /// Whether the answer to a link's n-th heartbeat (counting from 1) is lost on the way.
    var dropAnswer: (_ link: Int, _ ordinal: Int) -> Bool = { _, _ in false }
    /// Heartbeats sent on each link so far.
    private var sent: [Int]
    /// Each link's traffic in bytes a second, both ways.
    var trafficRate: [UInt64]
    /// Bytes through each link so far.
    private var trafficTotal: [Double]
    /// When the traffic totals were last advanced.
    private var trafficClock: UInt64
    /// Answers on their way: when they arrive, on which link, for which heartbeat.
    private var answers: [(at: UInt64, link: Int, timestamp: UInt64)] = []
    /// Every action so far, with the time it was returned.
    private(set) var log: [(at: UInt64, action: LinkMonitorAction)] = []

    /// Links named A, B, C… with these RTTs (ms; nil for dead) and priorities, started at 1 s on the clock.
    init(parameters: MultipathParameters = MultipathParameters(), rttMilliseconds: [UInt64?],
         priorities: [Double]? = nil) {
        now = ms(1_000)
        let specs = rttMilliseconds.indices.map { index in
            MultipathLinkSpec(name: String(UnicodeScalar(UInt8(65 + index))), priority: priorities?[index] ?? 0)
        }
        state = LinkMonitorState(parameters: parameters, links: specs, now: now)
        rtt = rttMilliseconds.map { $0.map(ms) }
        trafficRate = Array(repeating: 0, count: specs.count)
        trafficTotal = Array(repeating: 0, count: specs.count)
        trafficClock = now
        sent = Array(repeating: 0, count: specs.count)
    }

    /// Runs every event up to and including `end`.
    mutating func run(until end: UInt64) {
        while true {
            let nextAnswer = answers.map(\.at).min() ?? .max
            let next = min(state.nextWakeup, nextAnswer)
            guard next <= end else { break }
            now = max(now, next)
            let due = answers.filter { $0.at <= now }
            answers.removeAll { $0.at <= now }
            for answer in due {
                record(state.heartbeatAnswered(link: answer.link, echoedTimestamp: answer.timestamp, now: now))
            }
            if state.nextWakeup <= now {
                advanceTraffic()
                for link in trafficRate.indices {
                    record(state.recordTraffic(link: link, totalBytes: UInt64(trafficTotal[link]), now: now))
                }
                record(state.tick(now: now))
            }
        }
        now = max(now, end)
    }

    /// Runs for `duration` ns more.
    mutating func run(for duration: UInt64) {
        run(until: now + duration)
    }

    /// The actions returned so far that match `predicate`, with their times.
    func actions(where predicate: (LinkMonitorAction) -> Bool) -> [(at: UInt64, action: LinkMonitorAction)] {
        log.filter { predicate($0.action) }
    }

    /// The switches so far.
    var switches: [(at: UInt64, from: Int?, to: Int, reason: LinkSwitchReason)] {
        log.compactMap { entry in
            if case .switchActive(let from, let to, let reason) = entry.action { return (entry.at, from, to, reason) }
            return nil
        }
    }

    private mutating func advanceTraffic() {
        let elapsed = Double(now - trafficClock) / 1e9
        for link in trafficRate.indices { trafficTotal[link] += Double(trafficRate[link]) * elapsed }
        trafficClock = now
    }

    private mutating func record(_ actions: [LinkMonitorAction]) {
        for action in actions {
            log.append((now, action))
            if case .sendHeartbeat(let link, let heartbeat) = action {
                sent[link] += 1
                if let rtt = rtt[link], !dropAnswer(link, sent[link]) {
                    answers.append((now + rtt, link, heartbeat.timestamp))
                }
            }
        }
    }
}
