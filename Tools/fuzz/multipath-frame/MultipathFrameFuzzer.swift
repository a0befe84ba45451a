// libFuzzer entry point for the multipath frame decoder and the receiving channel. Built by Tools/fuzz/run-multipath
// with Sources/RelayProtocol/Multipath/*.swift, the ReliableUDP/ files it shares (client id rules, replay window)
// and Crypto/ (no module, so internal API is visible). Every broken invariant traps, which libFuzzer reports as a
// crash with its input.
#if canImport(Glibc)
import Glibc
#endif

enum MultipathFuzzFixtures {
    static let clientID = "alice"
    static let key: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    static let keys = MultipathKeys(clientKey: key)

    /// A valid frame of every type and direction, tagged under the fixture key.
    static func seeds() -> [(String, [UInt8])] {
        var client = MultipathChannel(clientID: clientID, key: key, role: .client, session: 1_000)
        var server = MultipathChannel(clientID: clientID, key: key, role: .server, session: 2_000)
        var seeds: [(String, [UInt8])] = []
        let heartbeat = MultipathHeartbeat(link: 1, health: .up, timestamp: 123_456, smoothedRTTMicroseconds: 20_000,
                                           lossBasisPoints: 250, scoreThousandths: 45_000)
        if let frame = try? client.seal(.data(flow: 7, payload: Array("ping".utf8)), activeLink: 0) {
            seeds.append(("data-client", frame))
        }
        if let frame = try? client.seal(.data(flow: 1, payload: []), activeLink: 2, replyFanout: .everyLiveLink) {
            seeds.append(("data-empty", frame))
        }
        if let frame = try? client.seal(.heartbeat(heartbeat), activeLink: 1, replyFanout: .twoBestLinks) {
            seeds.append(("heartbeat", frame))
        }
        if let frame = try? server.seal(.data(flow: 7, payload: Array("pong".utf8))) {
            seeds.append(("data-server", frame))
        }
        if let frame = try? server.seal(.heartbeatAck(MultipathHeartbeatAck(answering: heartbeat))) {
            seeds.append(("heartbeat-ack", frame))
        }
        return seeds
    }
}

/// Decodes the input and checks that a frame re-encodes to the same bytes (tag aside) and that an error has a
/// description; opens it on a channel of each role, which may accept it only with a valid tag; then builds frames
/// from the input's bytes and seals them, so the channel's replay filter meets every order of sequences.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMultipathFrame(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    checkDecoder(input)
    checkChannels(input)
    checkReplayFilter(input)
    return 0
}

func checkDecoder(_ input: [UInt8]) {
    let first = Result { () throws(MultipathFrameError) in try MultipathFrame.decode(input) }
    let second = input.withUnsafeBytes { bytes in
        Result { () throws(MultipathFrameError) in try MultipathFrame.decode(bytes) }
    }
    switch (first, second) {
    case (.success(let frame), .success(let again)):
        precondition(frame == again, "two decodes differ")
        precondition(frame.encodedSize == input.count, "a frame decoded from a datagram of another size")
        guard let encoded = try? frame.encode(authenticatingWith: MultipathFuzzFixtures.keys) else {
            preconditionFailure("a decoded frame does not encode")
        }
        let body = input.count - MultipathWire.tagSize
        precondition(Array(encoded.prefix(body)) == Array(input.prefix(body)), "a frame re-encodes differently")
    case (.failure(let a), .failure(let b)):
        precondition(a == b, "two decodes fail differently")
        precondition(!a.description.isEmpty, "an error without a description")
    default:
        preconditionFailure("one decode succeeded, the other failed")
    }
}

func checkChannels(_ input: [UInt8]) {
    for role in [MultipathChannel.Role.client, .server] {
        var channel = MultipathChannel(clientID: MultipathFuzzFixtures.clientID, key: MultipathFuzzFixtures.key,
                                       role: role, session: 1, replayWindow: 64)
        let result = channel.open(input)
        let authentic = MultipathFuzzFixtures.keys.isAuthentic(input, direction: role == .client
            ? .serverToClient : .clientToServer)
        switch result {
        case .success(let opened):
            precondition(authentic, "a frame without a valid tag was accepted")
            precondition(opened.frame.clientID == MultipathFuzzFixtures.clientID, "a frame for another client")
            precondition(channel.accepted == 1, "an accepted frame not counted")
            precondition(channel.open(input) == .failure(.duplicate), "the same frame accepted twice")
        case .failure(let drop):
            precondition(!drop.description.isEmpty, "a drop without a description")
            let counted = channel.malformed + channel.unknownClient + channel.wrongDirection + channel.badTags
                + channel.filter.duplicates + channel.filter.tooOld + channel.filter.staleSessions
            precondition(counted == 1, "a drop counted \(counted) times")
        }
    }
}

/// Pairs of input bytes pick a session step and a sequence; each frame is sealed under the real key and opened:
/// a (session, sequence) is accepted at most once, never one from an older session than the newest accepted.
func checkReplayFilter(_ input: [UInt8]) {
    var server = MultipathChannel(clientID: MultipathFuzzFixtures.clientID, key: MultipathFuzzFixtures.key,
                                  role: .server, session: 1, replayWindow: 64)
    var accepted = Set<[UInt64]>()
    var newestSession: UInt64 = 0
    var index = 0
    while index + 1 < input.count {
        let session = UInt64(input[index] >> 6) + 1
        let sequence = UInt32(input[index] & 0x3F) << 8 | UInt32(input[index + 1]) | 1
        index += 2
        let frame = MultipathFrame(direction: .clientToServer, clientID: MultipathFuzzFixtures.clientID,
                                   session: session, sequence: sequence, body: .data(flow: 1, payload: []))
        guard let bytes = try? frame.encode(authenticatingWith: MultipathFuzzFixtures.keys) else {
            preconditionFailure("a valid frame does not encode")
        }
        if case .success = server.open(bytes) {
            precondition(accepted.insert([session, UInt64(sequence)]).inserted, "a replay was accepted")
            precondition(session >= newestSession, "a frame of an older session was accepted")
            newestSession = session
        }
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("MULTIPATH_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, bytes) in MultipathFuzzFixtures.seeds() {
        guard let file = fopen(directory + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}
