extension MultipathFrame {
    /// The frame in `datagram`, or why it is not one. The tag is not checked here (that needs the client's key,
    /// which the client id names): pass the same bytes to `MultipathChannel.open`.
    ///
    /// Every length is checked before the bytes it covers are read, so no input traps or reads past the end;
    /// the checks run in the order of the layout and the first failure is the error.
    public static func decode(_ datagram: [UInt8]) throws(MultipathFrameError) -> MultipathFrame {
        // A closure cannot throw a typed error through withUnsafeBytes, so the result comes out as a Result.
        let result = datagram.withUnsafeBytes { bytes in
            Result { () throws(MultipathFrameError) -> MultipathFrame in try decode(bytes) }
        }
        return try result.get()
    }

    /// The frame in the bytes of `datagram`, or why it is not one.
    public static func decode(_ datagram: UnsafeRawBufferPointer) throws(MultipathFrameError) -> MultipathFrame {
        let count = datagram.count
        guard count <= MultipathWire.maxDatagramSize else {
            throw .oversized(limit: MultipathWire.maxDatagramSize, got: count)
        }
        guard count >= 4 else { throw .truncated(needed: MultipathWire.minFrameSize, got: count) }
        guard MultipathWire.hasMagic(datagram) else { throw .badMagic }
        guard count >= 6 else { throw .truncated(needed: MultipathWire.minFrameSize, got: count) }
        guard datagram[4] == MultipathWire.version else { throw .unsupportedVersion(datagram[4]) }
        guard let type = MultipathFrameType(rawValue: datagram[5]) else { throw .unknownType(datagram[5]) }
        let bodySize: Int
        switch type {
        case .data: bodySize = MultipathWire.dataBodyPrefixSize
        case .heartbeat: bodySize = MultipathWire.heartbeatBodySize
        case .heartbeatAck: bodySize = MultipathWire.heartbeatAckBodySize
        }
        // The client id's length is at offset 8 and its bytes start at 9.
        let idOffset = 9
        guard count > idOffset else {
            throw .truncated(needed: MultipathWire.headerSize(clientIDLength: 1) + bodySize + MultipathWire.tagSize,
                             got: count)
        }
        let idLength = Int(datagram[idOffset - 1])
        guard idLength >= 1, idLength <= MultipathWire.maxClientIDLength else {
            throw .invalidField("client id length")
        }
        let headerSize = MultipathWire.headerSize(clientIDLength: idLength)
        let needed = headerSize + bodySize + MultipathWire.tagSize
        guard count >= needed else { throw .truncated(needed: needed, got: count) }
        if type != .data, count > needed { throw .oversized(limit: needed, got: count) }

        let flags = datagram[6]
        guard flags & 0b1111_1000 == 0 else { throw .invalidField("flags") }
        let direction: MultipathDirection = flags & 1 == 0 ? .clientToServer : .serverToClient
        guard let replyFanout = MultipathReplyFanout(rawValue: (flags >> 1) & 0b11) else {
            throw .invalidField("reply fanout")
        }
        if let required = MultipathBody.requiredDirection(of: type), required != direction {
            throw .invalidField("direction")
        }
        let activeByte = datagram[7]
        if direction == .serverToClient {
            guard replyFanout == .oneLink else { throw .invalidField("reply fanout") }
            guard activeByte == MultipathWire.noLink else { throw .invalidField("active link") }
        }
        let idBytes = Array(datagram[idOffset..<(idOffset + idLength)])
        guard ReliableClientID.isValid(idBytes) else { throw .invalidField("client id") }

        var reader = Reader(bytes: datagram, offset: idOffset + idLength)
        let session = reader.u64()
        let sequence = reader.u32()
        guard session != 0 else { throw .invalidField("session") }
        guard sequence != 0 else { throw .invalidField("sequence") }

        let body: MultipathBody
        switch type {
        case .data:
            let flow = reader.u32()
            guard flow != 0 else { throw .invalidField("flow id") }
            let payloadEnd = count - MultipathWire.tagSize
            body = .data(flow: flow, payload: Array(datagram[reader.offset..<payloadEnd]))
        case .heartbeat:
            let link = reader.u8()
            guard link != MultipathWire.noLink else { throw .invalidField("link") }
            guard let health = MultipathLinkHealth(rawValue: reader.u8()) else { throw .invalidField("link health") }
            let timestamp = reader.u64()
            let rtt = reader.u32()
            let loss = reader.u16()
            guard loss <= 10_000 else { throw .invalidField("loss") }
            let score = Int32(bitPattern: reader.u32())
            body = .heartbeat(MultipathHeartbeat(
                link: link, health: health, timestamp: timestamp,
                smoothedRTTMicroseconds: rtt == MultipathHeartbeat.noRTT ? nil : rtt, lossBasisPoints: loss,
                scoreThousandths: score == MultipathHeartbeat.noScore ? nil : score))
        case .heartbeatAck:
            let link = reader.u8()
            guard link != MultipathWire.noLink else { throw .invalidField("link") }
            body = .heartbeatAck(MultipathHeartbeatAck(link: link, echoedTimestamp: reader.u64()))
        }
        return MultipathFrame(
            direction: direction, replyFanout: replyFanout,
            activeLink: activeByte == MultipathWire.noLink ? nil : activeByte,
            clientID: String(decoding: idBytes, as: UTF8.self), session: session, sequence: sequence, body: body)
    }

    /// Big-endian reads at offsets that `decode` has already checked against the whole layout (`needed`), so the
    /// reads themselves carry no checks of their own.
    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset: Int

        mutating func u8() -> UInt8 {
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func u16() -> UInt16 {
            UInt16(u8()) << 8 | UInt16(u8())
        }

        mutating func u32() -> UInt32 {
            UInt32(u16()) << 16 | UInt32(u16())
        }

        mutating func u64() -> UInt64 {
            UInt64(u32()) << 32 | UInt64(u32())
        }
    }
}
