// libFuzzer entry point for the reliable-UDP packet decoder and the session's receive path. Built by
// Tools/fuzz/run-reliable with Sources/RelayProtocol/ReliableUDP/*.swift (no module, so internal API is
// visible). Every broken invariant traps, which libFuzzer reports as a crash with its input.

/// Decodes the input as a datagram and checks it re-encodes to itself; hands it to a session, which must not
/// accept it (it has no valid tag); then seals the input, cut into packets, under the client's real key and
/// hands those to the server session: what an authenticated but hostile client can make it do.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReliablePacket(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    checkDecoder(input)
    checkSessionReceive(input)
    checkAuthenticatedGarbage(input)
    _ = try? KeysFile.parse(String(decoding: input, as: UTF8.self), file: "fuzz")
    return 0
}

func checkDecoder(_ input: [UInt8]) {
    let first = Result { () throws(ReliablePacketError) in try ReliablePacket.decode(input) }
    let second = Result { () throws(ReliablePacketError) in try ReliablePacket.decode(input) }
    switch (first, second) {
    case (.success(let a), .success(let b)):
        precondition(a == b, "two decodes differ")
        var again = a.encode()
        switch a {
        case .hello(let hello):
            let idEnd = ReliableWire.prefixSize + ReliableWire.nonceSize + 1 + hello.clientID.utf8.count
            precondition(Array(again.prefix(idEnd)) == Array(input.prefix(idEnd)), "a HELLO re-encodes differently")
            precondition(input.count >= ReliableWire.minHelloSize, "a short HELLO decoded")
        case .refused:
            again[4] = input[4]
            precondition(again == input, "a REFUSED re-encodes differently")
        case .session(let header, let protected):
            precondition(again == input, "a session packet re-encodes differently")
            precondition(protected.count >= ReliableWire.tagSize, "a session packet without a tag")
            precondition(header.packetNumber != 0 && header.sessionID != 0, "a zero packet number or session id")
        default:
            precondition(again == input, "a \(a.type) re-encodes differently")
        }
    case (.failure(let a), .failure(let b)):
        precondition(a == b, "two decodes fail differently")
        precondition(!a.description.isEmpty, "an error without a description")
    default:
        preconditionFailure("one decode succeeded, the other failed")
    }
    for type in ReliablePacketType.allCases where type.isSessionPacket {
        if let frame = try? ReliableFrame.decode(type: type, payload: input) {
            precondition(frame.type == type, "a frame of another type")
            if case .close = frame {} else {
                precondition(frame.encode() == input, "a frame re-encodes differently")
            }
        }
    }
}

/// A session whose keys nothing else uses, so no input can carry a valid tag for it (the seeds carry valid
/// tags for the fixtures' keys).
func checkSessionReceive(_ input: [UInt8]) {
    var setup = FuzzFixtures.setup(.server)
    setup.clientToServerKey = FuzzFixtures.serverSecret
    var session = ReliableSession(setup: setup, cryptography: FuzzFixtures.cryptography, now: 0)
    let verdict = session.handleDatagram(input, from: FuzzFixtures.otherAddress, now: 1)
    precondition(verdict != .accepted, "an unauthenticated datagram was accepted")
    precondition(session.peerAddress == FuzzFixtures.clientAddress, "an unauthenticated datagram moved the session")
    precondition(session.pollDatagram(now: 1) == nil, "an unauthenticated datagram got an answer")
}

/// Cuts the input into packets: a control byte picks the type, and the next bytes the fields, so the fuzzer
/// reaches every frame and header combination with a valid tag.
func checkAuthenticatedGarbage(_ input: [UInt8]) {
    let protection = ReliablePacketProtection(key: FuzzFixtures.clientKey, encrypted: true,
                                              direction: .clientToServer, cryptography: FuzzFixtures.cryptography)
    var session = ReliableSession(setup: FuzzFixtures.setup(.server), cryptography: FuzzFixtures.cryptography, now: 0)
    var reader = ReliableByteReader(input)
    var now: UInt64 = 0
    var number: UInt32 = 0
    var delivered: [[UInt8]] = []
    while let control = reader.u8(), let length = reader.u8() {
        let types: [ReliablePacketType] = [.data, .data, .data, .ack, .ping, .pong, .close, .data]
        let type = types[Int(control & 7)]
        number = control & 0x80 != 0 ? number &+ 1 : UInt32(reader.u8() ?? 1)
        let sequence = type == .data ? UInt32(max(1, reader.u8() ?? 1)) : 0
        let ack = UInt32(reader.u8() ?? 0)
        let bitfield = ack == 0 ? 0 : (reader.u32() ?? 0)
        let header = ReliableHeader(
            type: type, ackDelayMicroseconds: reader.u16() ?? 0, sessionID: FuzzFixtures.sessionID,
            packetNumber: max(number, 1), messageSequence: sequence, ack: ack, ackBitfield: bitfield,
            receiveLimit: UInt32(reader.u8() ?? 0), timestamp: UInt64(reader.u16() ?? 0))
        let payload = reader.bytes(min(Int(length), reader.remaining)) ?? []
        var packet = header.encode() + payload + [UInt8](repeating: 0, count: ReliableWire.tagSize)
        protection.protect(&packet, packetNumber: header.packetNumber)
        now += UInt64(control >> 3 & 7) * 10_000_000
        let address = control & 0x40 != 0 ? FuzzFixtures.otherAddress : FuzzFixtures.clientAddress
        _ = session.handleDatagram(packet, from: address, now: now)
        if let timeout = session.nextTimeout, timeout <= now { session.handleTimeout(now: now) }
        var sent = 0
        while session.pollDatagram(now: now) != nil {
            sent += 1
            precondition(sent < 10_000, "a session that never stops sending")
        }
        while let message = session.takeMessage() { delivered.append(message) }
        precondition(session.receiveBufferedBytes <= session.configuration.reassembly.maxBufferedBytes
            + ReliableWire.maxMessageSize + ReliableWire.maxFragments * Reassembler.fragmentOverhead,
            "the receive buffer outgrew its bound")
        precondition(session.messagesReady == 0, "messages left after taking them all")
    }
    precondition(delivered.allSatisfy { $0.count <= ReliableWire.maxMessageSize }, "an oversized message")
}
