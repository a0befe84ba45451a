extension ReliableSession {
    /// When `handleTimeout` must be called next, or nil while nothing is timed (a closed session).
    public var nextTimeout: UInt64? {
        switch state {
        case .closed:
            return nil
        case .closing(_, let until):
            return until
        case .open, .finishing:
            break
        }
        var earliest = idleDeadline
        if case .finishing(_, let deadline) = state { earliest = min(earliest, deadline) }
        if let ackDeadline { earliest = min(earliest, ackDeadline) }
        if let loss = lossDeadline { earliest = min(earliest, loss) }
        if let retransmission = retransmissionDeadline { earliest = min(earliest, retransmission) }
        if let keepAlive = keepAliveDeadline { earliest = min(earliest, keepAlive) }
        if let probe = probeDeadline { earliest = min(earliest, probe) }
        return earliest
    }

    /// Does what is due at `now`: closes an idle session, declares losses, schedules acknowledgements, PINGs and
    /// window probes. Poll afterwards.
    public mutating func handleTimeout(now: UInt64) {
        switch state {
        case .closed:
            return
        case .closing(let reason, let until):
            if now >= until { state = .closed(reason, byPeer: false) }
            return
        case .finishing(let reason, let deadline):
            if now >= deadline {
                close(reason, now: now)
                return
            }
        case .open:
            break
        }
        if now >= idleDeadline {
            // Unacknowledged data means the peer went away mid-transfer rather than fell quiet.
            let reason: ReliableCloseReason = held.isEmpty ? .idleTimeout : .retransmissionTimeout
            close(reason, now: now)
            // A peer that said nothing for so long will not answer; say CLOSE once and be done.
            state = .closed(reason, byPeer: false)
            return
        }
        if let loss = lossDeadline, now >= loss { detectLosses(now: now) }
        if let retransmission = retransmissionDeadline, now >= retransmission { retransmissionTimeout(now: now) }
        if let ackDeadline, now >= ackDeadline { ackImmediately = true }
        if let keepAlive = keepAliveDeadline, now >= keepAlive { pingPending = true }
        if let probe = probeDeadline, now >= probe {
            pingPending = true
            probeCount += 1
        }
    }

    /// When the session closes for silence.
    var idleDeadline: UInt64 {
        Self.after(lastReceivedAt, UInt64(parameters.idleTimeoutMilliseconds) * 1_000_000)
    }

    /// The retransmission timeout, plus the longest the peer holds an acknowledgement back (RFC 9002 §6.2.1).
    var retransmissionTimeoutValue: UInt64 {
        rtt.timeout + Self.maxAckDelay
    }

    /// The oldest DATA packet in flight plus the retransmission timeout.
    var retransmissionDeadline: UInt64? {
        guard dataInFlight > 0 else { return nil }
        for packet in inFlight where packet.fragment != nil {
            return Self.after(packet.sentAt, retransmissionTimeoutValue)
        }
        return nil
    }

    /// When a packet behind the largest acknowledged becomes lost by the time threshold.
    var lossDeadline: UInt64? {
        guard largestAcknowledged > 0 else { return nil }
        // In packet-number order, so the first DATA packet behind the largest acknowledged is the oldest.
        for packet in inFlight {
            guard packet.packetNumber < largestAcknowledged else { return nil }
            if packet.fragment != nil { return Self.after(packet.sentAt, lossDelay) }
        }
        return nil
    }

    /// When to PING for keep-alive: after `keepAliveInterval` (at most a third of the idle timeout) without
    /// hearing from the peer or pinging it.
    var keepAliveDeadline: UInt64? {
        guard let interval = configuration.keepAliveInterval, !pingPending else { return nil }
        let idle = UInt64(parameters.idleTimeoutMilliseconds) * 1_000_000
        return Self.after(max(lastReceivedAt, lastPingAt), min(interval, max(idle / 3, 1)))
    }

    /// When to probe a peer whose receive limit holds back everything left to send, with nothing in flight to
    /// bring a new limit back: one retransmission timeout after the last packet, doubling with each probe.
    var probeDeadline: UInt64? {
        guard !pingPending, dataInFlight == 0, retransmitQueue.isEmpty, let next = unsent.first,
            next >= peerReceiveLimit
        else { return nil }
        var wait = retransmissionTimeoutValue
        for _ in 0..<min(probeCount, 16) { wait = min(wait * 2, rtt.configuration.maximumTimeout) }
        return Self.after(max(lastSentAt, lastPingAt), wait)
    }

    /// The retransmission timer fired: every packet older than the timeout is lost, and the timeout doubles
    /// (RFC 6298 §5.4–5.6).
    mutating func retransmissionTimeout(now: UInt64) {
        let timeout = retransmissionTimeoutValue
        var remaining: [SentPacket] = []
        remaining.reserveCapacity(inFlight.count)
        for packet in inFlight {
            if Self.elapsed(now, since: packet.sentAt) >= timeout {
                declareLost(packet)
            } else {
                remaining.append(packet)
            }
        }
        inFlight = remaining
        rtt.backOff()
        stats.timeouts += 1
    }
}
