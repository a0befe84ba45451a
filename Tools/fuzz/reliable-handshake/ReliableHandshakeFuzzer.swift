// libFuzzer entry point for the reliable-UDP server and client handshakes. Built by Tools/fuzz/run-reliable
// with Sources/RelayProtocol/ReliableUDP/*.swift. Every broken invariant traps.

/// Hands the input to the server handshake from two addresses and to the client handshake in each of its
/// phases, checking what the design promises: no reply larger than the datagram, no reply to what is not a
/// HELLO or RESPONSE, no session without the right key, and no second session from a repeated RESPONSE.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReliableHandshake(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    checkServer(input)
    checkClient(input)
    return 0
}

func checkServer(_ input: [UInt8]) {
    var server = FuzzFixtures.serverHandshake()
    for (round, address) in [FuzzFixtures.clientAddress, FuzzFixtures.clientAddress, FuzzFixtures.otherAddress]
        .enumerated()
    {
        let outcome = server.handle(input, from: address, acceptingSessions: round != 2)
        let type = input.count > 5 ? input[5] : 0
        switch outcome {
        case .drop:
            break
        case .challenge(let reply):
            precondition(reply.count <= input.count, "a CHALLENGE larger than its HELLO")
            precondition(type == ReliablePacketType.hello.rawValue, "a CHALLENGE to something else")
            precondition((try? ReliablePacket.decode(reply)).map { $0.type == .challenge } == true, "a bad CHALLENGE")
        case .refuse(let reason, let reply):
            precondition(reply.count <= input.count, "a REFUSED larger than its request")
            precondition(type == ReliablePacketType.hello.rawValue || type == ReliablePacketType.response.rawValue,
                         "a REFUSED to something else")
            guard case .refused(let refused)? = try? ReliablePacket.decode(reply) else {
                preconditionFailure("a bad REFUSED")
            }
            precondition(refused.reason == reason, "a REFUSED with another reason")
        case .established(let setup, let welcome):
            precondition(round == 0, "a second session from the same datagram")
            precondition(welcome.count <= input.count, "a WELCOME larger than its RESPONSE")
            precondition(setup.clientID == "alice" || setup.clientID == "b", "a session for an unknown client")
            precondition(address == FuzzFixtures.clientAddress, "a session from the wrong address")
        case .repeated(_, let welcome):
            precondition(round == 1, "a repeat without an earlier session")
            precondition(welcome.count <= input.count, "a WELCOME larger than its RESPONSE")
        }
    }
    if let refusal = server.refusal(answering: input, reason: .rateLimited) {
        precondition(refusal.count <= input.count, "a refusal larger than its request")
    }
    server.rotate(secret: FuzzFixtures.clientKey, now: 1)
    server.rotate(secret: FuzzFixtures.serverSecret, now: 2)
    if case .established = server.handle(input, from: FuzzFixtures.clientAddress) {
        preconditionFailure("a session from a cookie two rotations old")
    }
}

func checkClient(_ input: [UInt8]) {
    var fresh = FuzzFixtures.clientHandshake()
    _ = fresh.start(now: 0)
    let beforeChallenge = fresh.handleDatagram(input, now: 1)
    if case .established = beforeChallenge { preconditionFailure("established before a CHALLENGE") }

    // Through a real CHALLENGE, then the input where the WELCOME should be.
    var server = FuzzFixtures.serverHandshake()
    var client = FuzzFixtures.clientHandshake()
    let hello = client.start(now: 0)
    guard case .challenge(let challenge) = server.handle(hello, from: FuzzFixtures.clientAddress),
        case .send(let response) = client.handleDatagram(challenge, now: 1)
    else { preconditionFailure("the fixtures' handshake failed") }
    switch client.handleDatagram(input, now: 2) {
    case .established(let setup):
        // Only the server's own WELCOME can do this.
        guard case .established(let serverSetup, let welcome) = server.handle(response, from: FuzzFixtures.clientAddress)
        else { preconditionFailure("the fixtures' RESPONSE failed") }
        precondition(welcome == input && setup.clientToServerKey == serverSetup.clientToServerKey,
                     "a WELCOME the server did not make was accepted")
    case .send(let packet):
        precondition((try? ReliablePacket.decode(packet)).map { $0.type == .hello } == true, "an unexpected packet")
    case .none, .failed:
        break
    }
}
