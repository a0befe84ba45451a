import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// The multipath client and server end to end in memory, over three simulated links with a seeded loss: the
/// LinkMonitor's heartbeats and the server's answers go through the real channels and codec, and DATA frames
/// go on whatever links the monitor's snapshot names, to be deduplicated by the server's replay filter.
struct MultipathSimulation {
    /// One simulated link: a one-way delay and an independent loss rate for every datagram, each way.
    struct Link {
        var oneWayDelay: UInt64
        var loss: Double
    }

    /// What happens next, and when.
    enum Event {
        case toServer([UInt8], link: Int)
        case toClient([UInt8], link: Int)
    }

    let links: [Link]
    var monitor: LinkMonitorState
    var client: MultipathChannel
    var server: MultipathChannel
    var returnPath = MultipathReturnPath<Int>()
    /// Datagrams in flight, ordered by arrival time.
    var inFlight: [(at: UInt64, event: Event)] = []
    /// Bytes sent on each link so far.
    var bytesSent: [UInt64]
    /// The seeded generator that decides losses (SplitMix64's steps, as a value).
    var randomState: UInt64
    var now: UInt64 = 0
    /// DATA frames sent and delivered at least once.
    var dataSent = 0, dataDelivered = 0
    /// Frames the server's filter dropped as duplicates.
    var duplicates: Int { server.filter.duplicates }

    init(links: [Link], redundancy: MultipathRedundancy, seed: UInt64) {
        self.links = links
        var parameters = MultipathParameters()
        parameters.redundancy = redundancy
        monitor = LinkMonitorState(parameters: parameters,
                                   links: links.indices.map { MultipathLinkSpec(name: "link\($0)") }, now: 0)
        let key = (0..<32).map { UInt8($0 ^ 0x5A) }
        client = MultipathChannel(clientID: "sim", key: key, role: .client, session: 1)
        server = MultipathChannel(clientID: "sim", key: key, role: .server, session: 2)
        bytesSent = Array(repeating: 0, count: links.count)
        randomState = seed
    }

    mutating func lost(on link: Int) -> Bool {
        randomState &+= SplitMix64.gamma
        let draw = Double(SplitMix64.mix(randomState) >> 11) / Double(1 << 53)
        return draw < links[link].loss
    }

    mutating func transmit(_ datagram: [UInt8], on link: Int, toServer: Bool) {
        if toServer { bytesSent[link] += UInt64(datagram.count) }
        guard !lost(on: link) else { return }
        let arrival = now + links[link].oneWayDelay
        let event: Event = toServer ? .toServer(datagram, link: link) : .toClient(datagram, link: link)
        let position = inFlight.firstIndex { $0.at > arrival } ?? inFlight.count
        inFlight.insert((arrival, event), at: position)
    }

    mutating func perform(_ actions: [LinkMonitorAction]) throws {
        for action in actions {
            guard case .sendHeartbeat(let link, let heartbeat) = action else { continue }
            let snapshot = monitor.snapshot
            let datagram = try client.seal(.heartbeat(heartbeat), activeLink: snapshot.activeLink.map(UInt8.init),
                                           replyFanout: snapshot.replyFanout)
            transmit(datagram, on: link, toServer: true)
        }
    }

    mutating func deliver(_ event: Event) throws {
        switch event {
        case .toServer(let datagram, let link):
            guard case .success(let authenticated) = server.open(datagram) else { return }
            returnPath.record(authenticated, from: link, now: now)
            switch authenticated.frame.body {
            case .data:
                dataDelivered += 1
            case .heartbeat(let heartbeat):
                let answer = try server.seal(.heartbeatAck(MultipathHeartbeatAck(answering: heartbeat)))
                transmit(answer, on: link, toClient: ())
            case .heartbeatAck:
                break
            }
        case .toClient(let datagram, _):
            guard case .success(let authenticated) = client.open(datagram),
                  case .heartbeatAck(let ack) = authenticated.frame.body else { return }
            try perform(monitor.heartbeatAnswered(link: Int(ack.link), echoedTimestamp: ack.echoedTimestamp, now: now))
        }
    }

    mutating func transmit(_ datagram: [UInt8], on link: Int, toClient: Void) {
        transmit(datagram, on: link, toServer: false)
    }

    /// Sends `rate` DATA frames a second of `size` bytes for `duration` ns, then lets the last ones land.
    mutating func run(dataPerSecond rate: UInt64, payloadSize size: Int, for duration: UInt64) throws {
        let gap = 1_000_000_000 / rate
        var nextData: UInt64 = 0
        let end = duration + ms(1_000)
        while true {
            let nextArrival = inFlight.first?.at ?? .max
            let nextSend = nextData < duration ? nextData : .max
            let next = min(monitor.nextWakeup, nextArrival, nextSend)
            guard next <= end else { break }
            now = next
            while let first = inFlight.first, first.at <= now {
                inFlight.removeFirst()
                try deliver(first.event)
            }
            if monitor.nextWakeup <= now {
                for link in links.indices {
                    try perform(monitor.recordTraffic(link: link, totalBytes: bytesSent[link], now: now))
                }
                try perform(monitor.tick(now: now))
            }
            if nextData <= now, nextData < duration {
                let snapshot = monitor.snapshot
                let payload = [UInt8](repeating: UInt8(truncatingIfNeeded: dataSent), count: size)
                let datagram = try client.seal(.data(flow: 1, payload: payload),
                                               activeLink: snapshot.activeLink.map(UInt8.init),
                                               replyFanout: snapshot.replyFanout)
                for link in snapshot.sendTargets { transmit(datagram, on: link, toServer: true) }
                dataSent += 1
                nextData += gap
            }
        }
    }

    /// The share of DATA frames that reached the server.
    var delivery: Double { Double(dataDelivered) / Double(max(dataSent, 1)) }
}

/// Three links to one server; the first, which the client starts on, loses 30 % of datagrams each way.
/// 500 frames a second of 200 bytes (800 kbps, above the 500 kbps throughput guard) keep the monitor from
/// leaving the lossy link for a better score, as the seed's guard intends; only redundancy can save the
/// traffic.
@Suite(.computeBound) struct MultipathSimulationTests {
    static let links = [
        MultipathSimulation.Link(oneWayDelay: ms(10), loss: 0.30),
        MultipathSimulation.Link(oneWayDelay: ms(20), loss: 0),
        MultipathSimulation.Link(oneWayDelay: ms(30), loss: 0.005),
    ]
    static let seeds: [UInt64] = [2026]

    func simulate(_ redundancy: MultipathRedundancy, seed: UInt64) throws -> MultipathSimulation {
        var simulation = MultipathSimulation(links: Self.links, redundancy: redundancy, seed: seed)
        try simulation.run(dataPerSecond: 500, payloadSize: 200, for: ms(20_000))
        return simulation
    }

    @Test(.computeBound, arguments: seeds)
    func adaptiveRedundancy_deliversAtLeast99Percent_overALinkLosing30Percent(seed: UInt64) throws {
        let simulation = try simulate(.adaptive, seed: seed)
        #expect(simulation.delivery >= 0.99, "delivered \(simulation.dataDelivered) of \(simulation.dataSent)")
        #expect(simulation.duplicates > 0)
        // The server heard the client's choice and replies where it sends.
        #expect(simulation.returnPath.current == simulation.monitor.activeLink)
    }

    @Test(.computeBound, arguments: seeds)
    func withoutRedundancy_theSameLinksDeliverLessThan99Percent(seed: UInt64) throws {
        let simulation = try simulate(.off, seed: seed)
        #expect(simulation.delivery < 0.99, "delivered \(simulation.dataDelivered) of \(simulation.dataSent)")
        #expect(simulation.duplicates == 0)
    }
}
