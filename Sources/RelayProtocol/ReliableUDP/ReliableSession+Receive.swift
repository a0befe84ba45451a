extension ReliableSession {
    /// Takes in one datagram the listener routed to this session (by the session id in its header), received
    /// from `address` at `now`. Poll afterwards: it may have acknowledged, delivered or closed something.
    @discardableResult
    public mutating func handleDatagram(_ datagram: [UInt8], from address: ReliablePeerAddress,
                                        now: UInt64) -> DatagramVerdict {
        if case .closed = state { return .ignored }
        let header: ReliableHeader
        do {
            let type = try ReliablePacket.prefixType(datagram)
            guard type.isSessionPacket else {
                stats.malformed += 1
                return .malformed
            }
            try ReliablePacket.requireSessionSize(datagram, type)
            header = try ReliableHeader.decode(datagram, type: type)
        } catch {
            stats.malformed += 1
            return .malformed
        }
        guard header.sessionID == sessionID else { return .wrongSession }
        // Checked before the tag, so replays cost no cryptography; recorded after, so forgeries move nothing.
        guard replay.check(header.packetNumber) == .fresh else {
            stats.replayed += 1
            return .replayed
        }
        var packet = datagram
        guard receiveProtection.unprotect(&packet, packetNumber: header.packetNumber) else {
            stats.badTag += 1
            return .badTag
        }
        let payload = Array(packet[ReliableWire.headerSize..<(packet.count - ReliableWire.tagSize)])
        let frame: ReliableFrame
        do {
            frame = try ReliableFrame.decode(type: header.type, payload: payload)
        } catch {
            stats.malformed += 1
            return .malformed
        }

        // Authenticated from here on.
        lastReceivedAt = now
        isConfirmed = true
        if case .closing = state {
            accept(header, bytes: datagram.count, now: now)
            if case .close(let reason) = frame {
                state = .closed(reason, byPeer: true)
            } else if closeRepeats < configuration.maxCloseRepeats {
                closeRepeats += 1
                closePending = true
            }
            return .accepted
        }
        if address != peerAddress, header.packetNumber > replay.largest {
            // Only the newest packet moves the session, so a late packet from the old address cannot move it back.
            events.append(.peerAddressChanged(from: peerAddress, to: address))
            peerAddress = address
            stats.rebindings += 1
        }
        updateJitter(header.timestamp, now: now)
        processAcknowledgements(header, now: now)
        if header.receiveLimit > peerReceiveLimit { peerReceiveLimit = header.receiveLimit }

        switch frame {
        case .data(let index, let count, let bytes):
            receiveData(header, index: index, count: count, bytes: bytes, size: datagram.count, now: now)
        case .ack, .pong:
            accept(header, bytes: datagram.count, now: now)
        case .ping:
            accept(header, bytes: datagram.count, now: now)
            pongPending = true
        case .close(let reason):
            accept(header, bytes: datagram.count, now: now)
            state = .closed(reason, byPeer: true)
            events.append(.closed(reason, byPeer: true))
            dropSendState()
        }
        if unreported >= Self.ackSpanLimit, ackElicitingPending > 0 || ackImmediately, state == .open || isFinishing {
            // The caller is handling a batch of datagrams before it polls. A header acknowledges only the 32
            // packets below its largest, so an acknowledgement made after the whole batch would leave the
            // batch's first packets unacknowledged, and the peer would send them again: make one now. (Only when
            // something ack-eliciting waits, so a run of the peer's own ACKs is never answered.)
            stats.acksSent += 1
            outbox.append(makePacket(.ack, sequence: 0, now: now))
        }
        return .accepted
    }

    /// Packets accepted without an acknowledgement made since, beyond which one is made at once (half the
    /// bitfield, so consecutive acknowledgements overlap).
    static let ackSpanLimit = 16

    /// Records the packet number as received (so it is acknowledged and never accepted again) and counts it.
    mutating func accept(_ header: ReliableHeader, bytes: Int, now: UInt64) {
        if header.packetNumber > replay.largest { largestReceivedAt = now }
        replay.insert(header.packetNumber)
        stats.packetsReceived += 1
        stats.bytesReceived += UInt64(bytes)
        unreported += 1
    }

    /// A DATA packet: into the reassembler, and the acknowledgement scheduled as the verdict says.
    mutating func receiveData(_ header: ReliableHeader, index: UInt16, count: UInt16, bytes: [UInt8], size: Int,
                              now: UInt64) {
        let previousLargest = replay.largest
        switch reassembler.insert(sequence: header.messageSequence, index: index, count: count, bytes: bytes) {
        case .accepted(let ahead):
            accept(header, bytes: size, now: now)
            if ahead { stats.outOfOrder += 1 }
            ackElicitingPending += 1
            let gap = header.packetNumber != previousLargest &+ 1
            if gap || ackElicitingPending >= configuration.ackEvery {
                ackImmediately = true
            } else if ackDeadline == nil {
                ackDeadline = Self.after(now, configuration.ackDelay)
            }
        case .duplicate:
            // The peer sent it again, so it missed our acknowledgement: acknowledge at once.
            accept(header, bytes: size, now: now)
            stats.duplicates += 1
            ackImmediately = true
        case .overBudget:
            // Not recorded, so not acknowledged: the peer sends it again when there is room.
            stats.overBudget += 1
        case .beyondLimit:
            stats.windowViolations += 1
        case .inconsistent:
            accept(header, bytes: size, now: now)
            close(.protocolViolation, now: now)
        }
    }

    /// RFC 3550 §6.4.1: `J += (|D| − J) / 16`, D the change in transit time between consecutive packets. The
    /// clocks need not agree; only the change counts.
    mutating func updateJitter(_ timestamp: UInt64, now: UInt64) {
        let transit = Int64(bitPattern: now &- timestamp &* 1000)
        if let last = lastTransit {
            let change = transit &- last
            let magnitude = change.magnitude
            let jitter = Int64(clamping: stats.jitter)
            let next = jitter &+ (Int64(clamping: magnitude) &- jitter) / 16
            stats.jitter = UInt64(clamping: next)
        }
        lastTransit = transit
    }

    /// The header's acknowledgement: frees what it acknowledges, takes an RTT sample, declares losses.
    mutating func processAcknowledgements(_ header: ReliableHeader, now: UInt64) {
        let ack = header.ack
        // An acknowledgement of a packet never sent is nonsense; ignore it rather than trust it.
        guard ack != 0, ack < nextPacketNumber else { return }
        if ack > largestAcknowledged { largestAcknowledged = ack }
        var newlyAcknowledged = false
        var dataAcknowledged = false
        // Compacts `inFlight` in place: the packets this header acknowledges go, the rest keep their order.
        var kept = 0
        for position in inFlight.indices {
            let packet = inFlight[position]
            guard Self.isAcknowledged(packet.packetNumber, ack: ack, bitfield: header.ackBitfield) else {
                inFlight[kept] = packet
                kept += 1
                continue
            }
            newlyAcknowledged = true
            if packet.packetNumber == ack {
                let sample = Self.elapsed(now, since: packet.sentAt)
                let delay = min(UInt64(header.ackDelayMicroseconds) * 1000, Self.maxAckDelay)
                rtt.add(sample: sample, ackDelay: delay)
                recordRTT(sample)
            }
            if let fragment = packet.fragment {
                dataInFlight -= 1
                dataAcknowledged = true
                fates.record(lost: false)
                acknowledge(fragment, now: now)
            }
        }
        inFlight.removeLast(inFlight.count - kept)
        if newlyAcknowledged { rtt.resetBackOff() }
        // A window probe's PONG says the peer lives, not that its window opened: the probes keep backing off.
        if dataAcknowledged { probeCount = 0 }
        detectLosses(now: now)
    }

    /// True when `packetNumber` is `ack` or one of the 32 before it with its bit set.
    static func isAcknowledged(_ packetNumber: UInt32, ack: UInt32, bitfield: UInt32) -> Bool {
        if packetNumber == ack { return true }
        guard packetNumber < ack, ack - packetNumber <= 32 else { return false }
        return bitfield & (1 << (ack - packetNumber - 1)) != 0
    }

    /// Marks a fragment acknowledged; a message whose every fragment is goes, with a latency sample.
    mutating func acknowledge(_ fragment: FragmentID, now: UInt64) {
        guard var message = held[fragment.sequence], !message.acknowledged[Int(fragment.index)] else { return }
        message.acknowledged[Int(fragment.index)] = true
        message.acknowledgedCount += 1
        if message.acknowledgedCount == Int(message.fragmentCount) {
            held[fragment.sequence] = nil
            heldBytes -= message.bytes.count
            stats.messagesAcknowledged += 1
            recordLatency(Self.elapsed(now, since: message.queuedAt))
        } else {
            held[fragment.sequence] = message
        }
    }

    /// RFC 9002 §6.1: a packet sent before an acknowledged one is lost when it is `packetThreshold` numbers
    /// behind the largest acknowledged, or was sent `9/8 · max(smoothed, latest RTT)` ago.
    mutating func detectLosses(now: UInt64) {
        guard largestAcknowledged > 0 else { return }
        let delay = lossDelay
        var kept = 0
        for position in inFlight.indices {
            let packet = inFlight[position]
            // In packet-number order: nothing from the largest acknowledged on can be lost yet.
            let behind = packet.packetNumber < largestAcknowledged
            if behind, largestAcknowledged - packet.packetNumber >= Self.packetThreshold
                || Self.elapsed(now, since: packet.sentAt) >= delay
            {
                if packet.fragment != nil { stats.fastRetransmits += 1 }
                declareLost(packet)
            } else {
                inFlight[kept] = packet
                kept += 1
            }
        }
        inFlight.removeLast(inFlight.count - kept)
    }

    /// Packets behind the largest acknowledged before one is declared lost (RFC 9002's kPacketThreshold).
    static let packetThreshold: UInt32 = 3

    /// RFC 9002 §6.1.2: `max(9/8 · max(smoothed, latest), granularity)`.
    var lossDelay: UInt64 {
        let base = max(rtt.smoothed, rtt.latest ?? 0)
        return max(base + base / 8, rtt.configuration.granularity)
    }

    /// Queues a lost packet's fragment for retransmission (a PING is simply forgotten).
    mutating func declareLost(_ packet: SentPacket) {
        guard let fragment = packet.fragment else { return }
        dataInFlight -= 1
        fates.record(lost: true)
        if let message = held[fragment.sequence], !message.acknowledged[Int(fragment.index)] {
            retransmitQueue.append(fragment)
        }
    }
}
