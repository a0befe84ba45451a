extension MultipathFrame {
    /// The frame's bytes followed by its tag under `keys`.
    ///
    /// Throws, without writing anything, when a field cannot go on the wire: a client id outside the keys
    /// file's rules, a zero session, sequence or flow, a link index of 255, a loss over 100 %, a body in the
    /// wrong direction, reply fields on a server frame, or a payload that would make the datagram longer than
    /// 65,507 bytes. The last is the one a relay meets in practice: the local application sent a datagram too
    /// large to carry with this overhead.
    public func encode(authenticatingWith keys: MultipathKeys) throws(MultipathFrameError) -> [UInt8] {
        if let problem = problem { throw problem }
        let size = encodedSize
        var bytes = [UInt8]()
        bytes.reserveCapacity(size)
        bytes.append(contentsOf: MultipathWire.magic)
        bytes.append(MultipathWire.version)
        bytes.append(type.rawValue)
        bytes.append(flags)
        bytes.append(activeLink ?? MultipathWire.noLink)
        bytes.append(UInt8(clientID.utf8.count))
        bytes.append(contentsOf: clientID.utf8)
        bytes.appendBigEndian(session)
        bytes.appendBigEndian(sequence)
        switch body {
        case .data(let flow, let payload):
            bytes.appendBigEndian(flow)
            bytes.append(contentsOf: payload)
        case .heartbeat(let heartbeat):
            bytes.append(heartbeat.link)
            bytes.append(heartbeat.health.rawValue)
            bytes.appendBigEndian(heartbeat.timestamp)
            bytes.appendBigEndian(heartbeat.smoothedRTTMicroseconds ?? MultipathHeartbeat.noRTT)
            bytes.appendBigEndian(heartbeat.lossBasisPoints)
            bytes.appendBigEndian(UInt32(bitPattern: heartbeat.scoreThousandths ?? MultipathHeartbeat.noScore))
        case .heartbeatAck(let ack):
            bytes.append(ack.link)
            bytes.appendBigEndian(ack.echoedTimestamp)
        }
        bytes.append(contentsOf: repeatElement(0, count: MultipathWire.tagSize))
        let direction = direction
        bytes.withUnsafeMutableBytes { frame in
            let split = frame.count - MultipathWire.tagSize
            keys.writeTag(of: UnsafeRawBufferPointer(rebasing: frame[..<split]), direction: direction,
                          into: UnsafeMutableRawBufferPointer(rebasing: frame[split...]))
        }
        return bytes
    }

    /// The flags byte: bit 0 the direction, bits 1–2 the reply fanout, the rest zero.
    var flags: UInt8 {
        (direction == .serverToClient ? 1 : 0) | replyFanout.rawValue << 1
    }

    /// Why this frame cannot be encoded, or nil when it can.
    var problem: MultipathFrameError? {
        let size = encodedSize
        if size > MultipathWire.maxDatagramSize { return .oversized(limit: MultipathWire.maxDatagramSize, got: size) }
        if !ReliableClientID.isValid(clientID) { return .invalidField("client id") }
        if session == 0 { return .invalidField("session") }
        if sequence == 0 { return .invalidField("sequence") }
        if let required = body.requiredDirection, required != direction { return .invalidField("direction") }
        if activeLink == MultipathWire.noLink { return .invalidField("active link") }
        if direction == .serverToClient {
            if replyFanout != .oneLink { return .invalidField("reply fanout") }
            if activeLink != nil { return .invalidField("active link") }
        }
        switch body {
        case .data(let flow, _):
            if flow == 0 { return .invalidField("flow id") }
        case .heartbeat(let heartbeat):
            if heartbeat.link == MultipathWire.noLink { return .invalidField("link") }
            if heartbeat.lossBasisPoints > 10_000 { return .invalidField("loss") }
            if heartbeat.smoothedRTTMicroseconds == MultipathHeartbeat.noRTT { return .invalidField("smoothed RTT") }
            if heartbeat.scoreThousandths == MultipathHeartbeat.noScore { return .invalidField("score") }
        case .heartbeatAck(let ack):
            if ack.link == MultipathWire.noLink { return .invalidField("link") }
        }
        return nil
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in network byte order.
    fileprivate mutating func appendBigEndian<Value: FixedWidthInteger>(_ value: Value) {
        var bigEndian = value.bigEndian
        Swift.withUnsafeBytes(of: &bigEndian) { append(contentsOf: $0) }
    }
}
