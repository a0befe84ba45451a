extension ReliableSession {
    /// Packet numbers kept back for CLOSE: when only these are left, the session closes.
    static let reservedPacketNumbers: UInt32 = 16

    /// Hands a message to the session for ordered, reliable delivery.
    ///
    /// Throws `wouldBlock` when the send queue is full (`canSend` is false): the caller keeps the message and
    /// stops reading its source until the peer's acknowledgements make room.
    public mutating func send(_ message: [UInt8], now: UInt64) throws(SendError) {
        guard state == .open else { throw .closed }
        guard message.count <= ReliableWire.maxMessageSize else { throw .tooLarge }
        guard canSend else { throw .wouldBlock }
        let count = max(1, (message.count + fragmentSize - 1) / fragmentSize)
        let sequence = nextMessageSequence
        nextMessageSequence += 1
        held[sequence] = OutgoingMessage(
            bytes: message, fragmentCount: UInt16(count), acknowledged: Array(repeating: false, count: count),
            queuedAt: now)
        heldBytes += message.count
        if unsent.isEmpty { unsentIndex = 0 }
        unsent.append(sequence)
        stats.messagesSent += 1
    }

    /// The next message in order, if one is complete. Taking messages moves the receive limit; when it moved
    /// by a quarter window the peer is told at once, so a sender that waits on it resumes.
    public mutating func takeMessage() -> [UInt8]? {
        guard let message = reassembler.take() else { return nil }
        stats.messagesReceived += 1
        if reassembler.receiveLimit &- advertisedLimit >= max(1, reassembler.configuration.window / 4),
            state == .open || isFinishing
        {
            ackImmediately = true
        }
        return message
    }

    /// The next datagram the session wants sent, or nil. Call until nil after every event.
    ///
    /// Order: CLOSE; PONG; fragments declared lost; new fragments, as the send window and the peer's receive
    /// limit allow; an acknowledgement that is due and rode on nothing; a PING.
    public mutating func pollDatagram(now: UInt64) -> Datagram? {
        if closePending {
            closePending = false
            return makePacket(.close(closeReason), sequence: 0, now: now)
        }
        guard state == .open || isFinishing else { return nil }
        if let datagram = outbox.popFirst() { return datagram }
        if nextPacketNumber > UInt32.max - Self.reservedPacketNumbers {
            close(.packetNumbersExhausted, now: now)
            return pollDatagram(now: now)
        }
        if pongPending {
            pongPending = false
            return makePacket(.pong, sequence: 0, now: now)
        }
        if let datagram = nextDataPacket(now: now) { return datagram }
        if ackImmediately || ackDeadline.map({ now >= $0 }) == true {
            stats.acksSent += 1
            return makePacket(.ack, sequence: 0, now: now)
        }
        if pingPending {
            pingPending = false
            lastPingAt = now
            stats.pingsSent += 1
            let datagram = makePacket(.ping, sequence: 0, now: now)
            inFlight.append(SentPacket(packetNumber: nextPacketNumber - 1, sentAt: now, fragment: nil))
            return datagram
        }
        if isFinishing, held.isEmpty, case .finishing(let reason, _) = state {
            close(reason, now: now)
            return pollDatagram(now: now)
        }
        return nil
    }

    /// Stops taking messages; sends CLOSE with `reason` once everything sent is acknowledged, or at `deadline`.
    public mutating func finish(_ reason: ReliableCloseReason = .normal, now: UInt64, deadline: UInt64) {
        guard state == .open else { return }
        state = .finishing(reason, deadline: deadline)
        if held.isEmpty { close(reason, now: now) }
    }

    /// Ends the session now: CLOSE with `reason` goes out at the next poll, and late packets are answered with
    /// CLOSE for three retransmission timeouts. Messages not yet acknowledged are dropped.
    public mutating func close(_ reason: ReliableCloseReason = .normal, now: UInt64) {
        switch state {
        case .open, .finishing:
            closeReason = reason
            closePending = true
            state = .closing(reason, until: Self.after(now, 3 * rtt.timeout))
            events.append(.closed(reason, byPeer: false))
            dropSendState()
        case .closing, .closed:
            return
        }
    }

    /// True in `.finishing`.
    var isFinishing: Bool {
        if case .finishing = state { return true }
        return false
    }

    /// Forgets everything waiting to be sent or acknowledged.
    mutating func dropSendState() {
        held = [:]
        heldBytes = 0
        unsent = ReliableFIFO()
        retransmitQueue = ReliableFIFO()
        inFlight = []
        dataInFlight = 0
        pingPending = false
        pongPending = false
        outbox = ReliableFIFO()
    }

    /// A DATA packet: a lost fragment first, then a new one, if the window allows.
    mutating func nextDataPacket(now: UInt64) -> Datagram? {
        guard dataInFlight < configuration.maxInFlight else { return nil }
        while let fragment = retransmitQueue.popFirst() {
            // A fragment declared lost may have been acknowledged since (its packet was late, not lost).
            guard let message = held[fragment.sequence], !message.acknowledged[Int(fragment.index)] else { continue }
            stats.retransmitted += 1
            return dataPacket(fragment, of: message, now: now)
        }
        while let sequence = unsent.first {
            guard let message = held[sequence] else {
                _ = unsent.popFirst()
                unsentIndex = 0
                continue
            }
            guard sequence < peerReceiveLimit else { return nil }
            let fragment = FragmentID(sequence: sequence, index: unsentIndex)
            unsentIndex += 1
            if unsentIndex == message.fragmentCount {
                _ = unsent.popFirst()
                unsentIndex = 0
            }
            return dataPacket(fragment, of: message, now: now)
        }
        return nil
    }

    /// The DATA packet of `fragment`, recorded as in flight.
    mutating func dataPacket(_ fragment: FragmentID, of message: OutgoingMessage, now: UInt64) -> Datagram {
        let start = Int(fragment.index) * fragmentSize
        let end = min(start + fragmentSize, message.bytes.count)
        let bytes = start < end ? Array(message.bytes[start..<end]) : []
        let frame = ReliableFrame.data(index: fragment.index, count: message.fragmentCount, bytes: bytes)
        let datagram = makePacket(frame, sequence: fragment.sequence, now: now)
        inFlight.append(SentPacket(packetNumber: nextPacketNumber - 1, sentAt: now, fragment: fragment))
        dataInFlight += 1
        stats.dataPacketsSent += 1
        probeCount = 0
        if sendsTwice {
            // The second copy is a packet of its own: its own number, its own acknowledgement, its own fate in the
            // loss window. It leaves right after the first (`pollDatagram` takes the outbox first).
            outbox.append(makePacket(frame, sequence: fragment.sequence, now: now))
            inFlight.append(SentPacket(packetNumber: nextPacketNumber - 1, sentAt: now, fragment: fragment))
            dataInFlight += 1
            stats.dataPacketsSent += 1
            stats.redundantCopies += 1
        }
        return datagram
    }

    /// Whether DATA packets go out twice now.
    var sendsTwice: Bool {
        switch configuration.redundancy {
        case .off: false
        case .always: true
        case .adaptive(let threshold): fates.reaches(threshold)
        }
    }

    /// Numbers, fills and seals one packet carrying `frame`, with the acknowledgement state of the moment.
    mutating func makePacket(_ frame: ReliableFrame, sequence: UInt32, now: UInt64) -> Datagram {
        let packetNumber = nextPacketNumber
        nextPacketNumber += 1
        let ack = replay.largest
        let delay = ack == 0 ? 0 : UInt16(clamping: Self.elapsed(now, since: largestReceivedAt) / 1000)
        let limit = reassembler.receiveLimit
        let header = ReliableHeader(
            type: frame.type, ackDelayMicroseconds: delay, sessionID: sessionID, packetNumber: packetNumber,
            messageSequence: sequence, ack: ack, ackBitfield: replay.ackBitfield, receiveLimit: limit,
            timestamp: now / 1000)
        let payload = frame.encode()
        var writer = ReliableByteWriter(capacity: ReliableWire.sessionOverhead + payload.count)
        header.write(to: &writer)
        writer.append(payload)
        writer.zeros(ReliableWire.tagSize)
        var bytes = writer.bytes
        sendProtection.protect(&bytes, packetNumber: packetNumber)

        // Every packet carries the acknowledgements and the limit: nothing is owed any more.
        ackElicitingPending = 0
        unreported = 0
        ackImmediately = false
        ackDeadline = nil
        advertisedLimit = limit
        lastSentAt = now
        stats.packetsSent += 1
        stats.bytesSent += UInt64(bytes.count)
        return Datagram(bytes: bytes, address: peerAddress)
    }
}
