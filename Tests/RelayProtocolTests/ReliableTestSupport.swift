@testable import RelayProtocol

/// Keys, addresses and ready-made session pairs for the reliable-UDP tests.
enum ReliableFixtures {
    /// The real primitives (Crypto/), for every test but the long simulations.
    static let cryptography = ReliableStandardCryptography()
    /// A fast stand-in for the long simulations, whose subject is the state machine, not the cipher: tests run
    /// unoptimised, where ChaCha20-Poly1305 would take most of their time.
    static let fastCryptography = TestCryptography()
    static let clientAddress = ReliablePeerAddress([4, 127, 0, 0, 1, 0xC3, 0x50])
    static let movedClientAddress = ReliablePeerAddress([4, 10, 0, 0, 7, 0x9C, 0x41])
    static let serverAddress = ReliablePeerAddress([4, 127, 0, 0, 1, 0x1F, 0x90])
    static let sessionID: UInt64 = 0x0123_4567_89AB_CDEF
    static let millisecond: UInt64 = 1_000_000
    static let second: UInt64 = 1_000_000_000

    /// 32 bytes that differ with `seed`.
    static func key(_ seed: UInt8) -> [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: Int($0) &* 7 &+ Int(seed) &* 31 &+ 1) }
    }

    /// Matching client and server setups, as a handshake would leave them.
    static func setups(parameters: ReliableSessionParameters = .init())
        -> (client: ReliableSessionSetup, server: ReliableSessionSetup)
    {
        let client = ReliableSessionSetup(
            role: .client, sessionID: sessionID, clientID: "alice", parameters: parameters,
            clientToServerKey: key(1), serverToClientKey: key(2), peerAddress: serverAddress)
        var server = client
        server.role = .server
        server.peerAddress = clientAddress
        return (client, server)
    }

    /// A client and a server session that can talk to each other, made at `now`.
    static func pair(parameters: ReliableSessionParameters = .init(),
                     configuration: ReliableSessionConfiguration = .init(), now: UInt64 = 0,
                     cryptography: any ReliableCryptography = cryptography)
        -> (client: ReliableSession, server: ReliableSession)
    {
        let (clientSetup, serverSetup) = setups(parameters: parameters)
        return (
            ReliableSession(setup: clientSetup, configuration: configuration, cryptography: cryptography, now: now),
            ReliableSession(setup: serverSetup, configuration: configuration, cryptography: cryptography, now: now)
        )
    }

    /// Every datagram the session wants to send now.
    static func drain(_ session: inout ReliableSession, now: UInt64) -> [ReliableSession.Datagram] {
        var datagrams: [ReliableSession.Datagram] = []
        while let datagram = session.pollDatagram(now: now) { datagrams.append(datagram) }
        return datagrams
    }

    /// Every message ready in the session.
    static func takeAll(_ session: inout ReliableSession) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        while let message = session.takeMessage() { messages.append(message) }
        return messages
    }

    /// A message that says which side sent it and its index, `size` bytes long, so a test sees what arrived.
    static func message(_ index: Int, size: Int, side: UInt8) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: size)
        var value = UInt64(index) << 8 | UInt64(side)
        for position in 0..<size {
            if position < 8 {
                bytes[position] = UInt8(truncatingIfNeeded: UInt64(index) >> (8 * UInt64(position)))
            } else {
                value = TestCryptography.mix(value)
                bytes[position] = UInt8(truncatingIfNeeded: value)
            }
        }
        if size > 0 { bytes[0] ^= side << 7 }
        return bytes
    }
}

/// A network between two sessions that loses, duplicates, delays and reorders datagrams as a seeded generator
/// decides, with a clock that jumps from event to event: minutes of traffic in milliseconds, the same every run.
///
/// Each direction is a queue whose delay varies (`baseDelay` plus up to `jitter`) but which keeps its order, as
/// a real path's queues do; `reorderPercent` of the datagrams leave the queue and arrive `reorderDelay` late,
/// overtaken by those sent after them.
struct ReliableLinkSimulation {
    /// A datagram on the wire.
    struct InTransit {
        let deliverAt: UInt64
        let toServer: Bool
        let bytes: [UInt8]
        let from: ReliablePeerAddress
        /// Breaks ties in delivery time in sending order.
        let order: Int
    }

    var client: ReliableSession
    var server: ReliableSession
    var random: HTTPFuzzRandom
    var now: UInt64 = 0
    var lossPercent = 10
    var duplicatePercent = 3
    /// Percent of datagrams held back an extra `reorderDelay`, so later ones overtake them.
    var reorderPercent = 5
    var baseDelay: UInt64 = 10 * ReliableFixtures.millisecond
    var jitter: UInt64 = 10 * ReliableFixtures.millisecond
    var reorderDelay: UInt64 = 30 * ReliableFixtures.millisecond
    /// A binary min-heap on (deliverAt, order).
    private(set) var transit: [InTransit] = []
    private var sent = 0
    /// The latest delivery time in each direction's queue (to the server, to the client).
    private var queueEnd: (toServer: UInt64, toClient: UInt64) = (0, 0)
    /// Datagrams the link lost or copied, for the test's own sanity checks.
    private(set) var lost = 0
    private(set) var duplicated = 0

    init(client: ReliableSession, server: ReliableSession, seed: UInt64) {
        self.client = client
        self.server = server
        random = HTTPFuzzRandom(seed: seed)
    }

    /// Puts every datagram both sessions want to send on the wire.
    mutating func flush() {
        while let datagram = client.pollDatagram(now: now) { put(datagram.bytes, toServer: true) }
        while let datagram = server.pollDatagram(now: now) { put(datagram.bytes, toServer: false) }
    }

    private mutating func put(_ bytes: [UInt8], toServer: Bool) {
        if random.chance(lossPercent) {
            lost += 1
            return
        }
        let copies = random.chance(duplicatePercent) ? 2 : 1
        if copies == 2 { duplicated += 1 }
        for _ in 0..<copies {
            var deliverAt = now + baseDelay + UInt64(random.below(Int(jitter) + 1))
            if random.chance(reorderPercent) {
                deliverAt += reorderDelay
            } else if toServer {
                deliverAt = max(deliverAt, queueEnd.toServer)
                queueEnd.toServer = deliverAt
            } else {
                deliverAt = max(deliverAt, queueEnd.toClient)
                queueEnd.toClient = deliverAt
            }
            let from = toServer ? ReliableFixtures.clientAddress : ReliableFixtures.serverAddress
            push(InTransit(deliverAt: deliverAt, toServer: toServer, bytes: bytes, from: from, order: sent))
            sent += 1
        }
    }

    /// Moves the clock to the next delivery or timeout (but not past `limit`) and handles everything due then;
    /// false when nothing is left to happen.
    mutating func step(until limit: UInt64? = nil) -> Bool {
        flush()
        var next = [client.nextTimeout, server.nextTimeout].compactMap { $0 }.min()
        if let arrival = transit.first?.deliverAt { next = min(next ?? arrival, arrival) }
        if let limit { next = min(next ?? limit, limit) }
        guard let next else { return false }
        now = max(now, next)
        while let first = transit.first, first.deliverAt <= now {
            let datagram = pop()
            if datagram.toServer {
                server.handleDatagram(datagram.bytes, from: datagram.from, now: now)
            } else {
                client.handleDatagram(datagram.bytes, from: datagram.from, now: now)
            }
        }
        if let timeout = client.nextTimeout, timeout <= now { client.handleTimeout(now: now) }
        if let timeout = server.nextTimeout, timeout <= now { server.handleTimeout(now: now) }
        flush()
        return true
    }

    private static func before(_ a: InTransit, _ b: InTransit) -> Bool {
        (a.deliverAt, a.order) < (b.deliverAt, b.order)
    }

    private mutating func push(_ element: InTransit) {
        transit.append(element)
        var child = transit.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(transit[child], transit[parent]) else { break }
            transit.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> InTransit {
        let top = transit[0]
        let last = transit.removeLast()
        guard !transit.isEmpty else { return top }
        transit[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < transit.count, Self.before(transit[left], transit[smallest]) { smallest = left }
            if right < transit.count, Self.before(transit[right], transit[smallest]) { smallest = right }
            guard smallest != parent else { return top }
            transit.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
