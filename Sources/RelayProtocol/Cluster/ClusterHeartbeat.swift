/// The datagram every node of a static cluster sends each peer every `heartbeat`: who it is, what it believes
/// about the leadership, and — when it is the leader — the score of every backend server it probes.
///
/// Wire format (big-endian), authenticated with HMAC-SHA256 under the cluster key:
///
///     magic "RCHB" (4) | version 1 (1) | flags (1: bit 0 claims leadership, bit 1 carries scores,
///                                                  bit 2 ready: past its joining period)
///     node id length (1) | node id | stamp (8) | term (8) | leader id length (1, 0 = none) | leader id
///     [scores] group count (2) | per group: name length (1) | name | server count (2) | per server:
///         address length (1) | address | flags (1) | total, latency, jitter, success, penalty, bonus (6 × f64)
///         | [latency ms f64] | [jitter ms f64] | [success rate f64] | failures in a row (4) | successes in a row (4)
///         | probes (8) | [down reason: length (1) | bytes] | [last error: length (1) | bytes]
///     HMAC-SHA256 tag (32) over every byte before it
///
/// The `stamp` rises with every heartbeat a node sends and starts, at each start, from the wall clock in
/// microseconds; a receiver drops any heartbeat whose stamp is not above the last one it accepted from that
/// node, so a recorded heartbeat replayed later cannot make a dead node look alive. The tag is checked (in
/// constant time) before any field is read.
public struct ClusterHeartbeat: Sendable, Equatable {
    /// The first four bytes of every heartbeat.
    public static let magic: [UInt8] = Array("RCHB".utf8)
    /// The version this build writes and reads.
    public static let version: UInt8 = 1
    /// The largest heartbeat sent or accepted: what fits one UDP datagram on loopback and most paths with
    /// fragmentation. A leader whose scores do not fit sends its heartbeat without them (and says so).
    public static let maximumSize = 65_000
    /// Magic, version, flags, two empty ids, stamp, term and tag.
    public static let minimumSize = 4 + 1 + 1 + 1 + 8 + 8 + 1 + HMACSHA256.byteCount
    /// The longest node id, group name or address (one length byte).
    public static let maximumNameBytes = 255
    /// The longest reason or error text carried; longer ones are cut on encode.
    public static let maximumTextBytes = 200

    /// The sender's node id.
    public var nodeID: String
    /// Rises with each heartbeat the sender sends (see the type's comment).
    public var stamp: UInt64
    /// The leadership term the sender knows: its own if it leads, else the highest it has seen.
    public var term: UInt64
    /// Whom the sender considers the leader, nil when it knows none.
    public var leader: String?
    /// Whether the sender claims to be the leader.
    public var claimsLeadership: Bool
    /// Whether the sender is past its joining period (one `dead_after` after its start, spent learning who is
    /// alive and the highest term): only ready nodes can be elected.
    public var ready: Bool
    /// The leader's published scores; nil on a follower's heartbeat (or when they did not fit).
    public var scores: [ClusterGroupScores]?

    public init(nodeID: String, stamp: UInt64, term: UInt64, leader: String?, claimsLeadership: Bool,
                ready: Bool = true, scores: [ClusterGroupScores]? = nil) {
        self.nodeID = nodeID
        self.stamp = stamp
        self.term = term
        self.leader = leader
        self.claimsLeadership = claimsLeadership
        self.ready = ready
        self.scores = scores
    }

    // MARK: - Encoding

    /// The authenticated datagram; throws `tooLarge` when it would exceed `maximumSize`, and `malformed` for a
    /// node id, group name or address longer than 255 bytes.
    public func encoded(mac: HMACSHA256) throws(ClusterHeartbeatError) -> [UInt8] {
        var out = ReliableByteWriter(capacity: 256)
        out.append(Self.magic)
        out.u8(Self.version)
        out.u8((claimsLeadership ? 1 : 0) | (scores != nil ? 2 : 0) | (ready ? 4 : 0))
        try Self.writeName(nodeID, to: &out)
        out.u64(stamp)
        out.u64(term)
        try Self.writeName(leader ?? "", to: &out)
        if let scores {
            guard scores.count <= Int(UInt16.max) else { throw .tooLarge }
            out.u16(UInt16(scores.count))
            for group in scores {
                try Self.writeName(group.group, to: &out)
                guard group.servers.count <= Int(UInt16.max) else { throw .tooLarge }
                out.u16(UInt16(group.servers.count))
                for server in group.servers {
                    try Self.write(server, to: &out)
                    if out.bytes.count > Self.maximumSize { throw .tooLarge }
                }
            }
        }
        guard out.bytes.count + HMACSHA256.byteCount <= Self.maximumSize else { throw .tooLarge }
        out.append(mac.authenticationCode(for: out.bytes))
        return out.bytes
    }

    private static func writeName(_ text: String, to out: inout ReliableByteWriter) throws(ClusterHeartbeatError) {
        let bytes = Array(text.utf8)
        guard bytes.count <= maximumNameBytes else { throw .malformed("a name longer than \(maximumNameBytes) bytes") }
        out.u8(UInt8(bytes.count))
        out.append(bytes)
    }

    private static func writeText(_ text: String, to out: inout ReliableByteWriter) {
        // Whole characters only, so a cut text is still valid UTF-8.
        var bytes: [UInt8] = []
        for character in text {
            let next = Array(character.utf8)
            if bytes.count + next.count > maximumTextBytes { break }
            bytes += next
        }
        out.u8(UInt8(bytes.count))
        out.append(bytes)
    }

    private static func write(_ server: ClusterServerScore, to out: inout ReliableByteWriter)
        throws(ClusterHeartbeatError)
    {
        try writeName(server.address, to: &out)
        var flags: UInt8 = 0
        if server.healthy { flags |= 1 }
        if server.measured { flags |= 2 }
        if server.latencyMs != nil { flags |= 4 }
        if server.jitterMs != nil { flags |= 8 }
        if server.successRate != nil { flags |= 16 }
        if server.downReason != nil { flags |= 32 }
        if server.lastError != nil { flags |= 64 }
        out.u8(flags)
        for value in [server.total, server.latency, server.jitter, server.success, server.penalty, server.bonus] {
            out.u64(value.bitPattern)
        }
        for value in [server.latencyMs, server.jitterMs, server.successRate] {
            if let value { out.u64(value.bitPattern) }
        }
        out.u32(UInt32(clamping: server.consecutiveFailures))
        out.u32(UInt32(clamping: server.consecutiveSuccesses))
        out.u64(server.probes)
        if let reason = server.downReason { writeText(reason, to: &out) }
        if let error = server.lastError { writeText(error, to: &out) }
    }

    // MARK: - Decoding

    /// Checks `datagram`'s tag under `mac`, then decodes it. Every failure is a typed error; nothing here traps
    /// or allocates more than the datagram's own size allows.
    public static func decode(_ datagram: [UInt8], mac: HMACSHA256) throws(ClusterHeartbeatError) -> ClusterHeartbeat {
        guard datagram.count <= maximumSize else { throw .tooLarge }
        guard datagram.count >= minimumSize else { throw .tooShort }
        guard datagram.starts(with: magic) else { throw .badMagic }
        guard datagram[4] == version else { throw .unsupportedVersion(datagram[4]) }
        let body = datagram.count - HMACSHA256.byteCount
        let valid = datagram.withUnsafeBytes { raw in
            mac.isValidAuthenticationCode(UnsafeRawBufferPointer(rebasing: raw[body...]),
                                          for: UnsafeRawBufferPointer(rebasing: raw[..<body]))
        }
        guard valid else { throw .badTag }
        var reader = ReliableByteReader(datagram, offset: 5, end: body)
        guard let flags = reader.u8() else { throw .malformed("no flags") }
        guard flags & ~7 == 0 else { throw .malformed("unknown flags") }
        let nodeID = try readName(&reader, "node id")
        guard !nodeID.isEmpty else { throw .malformed("an empty node id") }
        guard let stamp = reader.u64(), let term = reader.u64() else { throw .malformed("ends in the stamp or term") }
        let leader = try readName(&reader, "leader id")
        var scores: [ClusterGroupScores]?
        if flags & 2 != 0 {
            guard let groupCount = reader.u16() else { throw .malformed("ends before the group count") }
            var groups: [ClusterGroupScores] = []
            for _ in 0..<groupCount {
                let name = try readName(&reader, "group name")
                guard let serverCount = reader.u16() else { throw .malformed("ends before a server count") }
                // Each server takes at least 61 bytes, so a count the datagram cannot hold is refused before any
                // array is sized from it.
                guard Int(serverCount) * 61 <= reader.remaining else { throw .malformed("more servers than bytes") }
                var servers: [ClusterServerScore] = []
                servers.reserveCapacity(Int(serverCount))
                for _ in 0..<serverCount { servers.append(try readServer(&reader)) }
                groups.append(ClusterGroupScores(group: name, servers: servers))
            }
            scores = groups
        }
        guard reader.remaining == 0 else { throw .malformed("\(reader.remaining) bytes after the last field") }
        return ClusterHeartbeat(nodeID: nodeID, stamp: stamp, term: term, leader: leader.isEmpty ? nil : leader,
                                claimsLeadership: flags & 1 != 0, ready: flags & 4 != 0, scores: scores)
    }

    private static func readName(_ reader: inout ReliableByteReader, _ what: String) throws(ClusterHeartbeatError)
        -> String
    {
        guard let length = reader.u8(), let bytes = reader.bytes(Int(length)) else {
            throw .malformed("ends in a \(what)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .malformed("a \(what) is not UTF-8") }
        return text
    }

    private static func readNumber(_ reader: inout ReliableByteReader) throws(ClusterHeartbeatError) -> Double {
        guard let bits = reader.u64() else { throw .malformed("ends in a number") }
        let value = Double(bitPattern: bits)
        guard value.isFinite else { throw .malformed("a number that is not finite") }
        return value
    }

    private static func readServer(_ reader: inout ReliableByteReader) throws(ClusterHeartbeatError)
        -> ClusterServerScore
    {
        let address = try readName(&reader, "server address")
        guard let flags = reader.u8() else { throw .malformed("ends before a server's flags") }
        guard flags & 0x80 == 0 else { throw .malformed("unknown server flags") }
        var server = ClusterServerScore(address: address, healthy: flags & 1 != 0, measured: flags & 2 != 0)
        server.total = try readNumber(&reader)
        server.latency = try readNumber(&reader)
        server.jitter = try readNumber(&reader)
        server.success = try readNumber(&reader)
        server.penalty = try readNumber(&reader)
        server.bonus = try readNumber(&reader)
        if flags & 4 != 0 { server.latencyMs = try readNumber(&reader) }
        if flags & 8 != 0 { server.jitterMs = try readNumber(&reader) }
        if flags & 16 != 0 { server.successRate = try readNumber(&reader) }
        guard let failures = reader.u32(), let successes = reader.u32(), let probes = reader.u64() else {
            throw .malformed("ends in a server's counters")
        }
        server.consecutiveFailures = Int(failures)
        server.consecutiveSuccesses = Int(successes)
        server.probes = probes
        if flags & 32 != 0 { server.downReason = try readName(&reader, "down reason") }
        if flags & 64 != 0 { server.lastError = try readName(&reader, "last error") }
        return server
    }
}
