// Shared by the reliable-UDP fuzz targets (Tools/fuzz/run-reliable): fixed keys, addresses and secrets, so an
// input replays the same way every time, and the seed corpus, written from the codec itself so it always
// matches the current wire format and keys.
#if canImport(Glibc)
import Glibc
#endif

enum FuzzFixtures {
    static let cryptography = ReliableStandardCryptography()
    static let clientAddress = ReliablePeerAddress([4, 127, 0, 0, 1, 0xC3, 0x50])
    static let otherAddress = ReliablePeerAddress([4, 10, 0, 0, 7, 0x9C, 0x41])
    static let serverAddress = ReliablePeerAddress([4, 127, 0, 0, 1, 0x1F, 0x90])
    static let sessionID: UInt64 = 0x0123_4567_89AB_CDEF
    static let clientKey: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
    static let serverSecret: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
    static let clientNonce: [UInt8] = (0..<32).map { UInt8(truncatingIfNeeded: 200 &- $0) }

    static func setup(_ role: ReliableRole) -> ReliableSessionSetup {
        ReliableSessionSetup(
            role: role, sessionID: sessionID, clientID: "alice", parameters: .init(),
            clientToServerKey: clientKey, serverToClientKey: clientKey.reversed(),
            peerAddress: role == .server ? clientAddress : serverAddress)
    }

    static func serverHandshake() -> ReliableServerHandshake {
        ReliableServerHandshake(
            configuration: .init(maxRecentHandshakes: 4), keys: ["alice": clientKey, "b": clientKey.reversed()],
            secret: serverSecret, cryptography: cryptography, now: 0)
    }

    static func clientHandshake() -> ReliableClientHandshake {
        ReliableClientHandshake(
            clientID: "alice", key: clientKey, clientNonce: clientNonce, serverAddress: serverAddress,
            configuration: .init(helloSize: 200), cryptography: cryptography)
    }

    /// A valid packet of every kind: HELLO, CHALLENGE, RESPONSE, WELCOME, REFUSED, and session packets sealed
    /// under the fixtures' keys.
    static func seeds() -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        var server = serverHandshake()
        var client = clientHandshake()
        let hello = client.start(now: 0)
        seeds.append(("hello", hello))
        if case .challenge(let challenge) = server.handle(hello, from: clientAddress) {
            seeds.append(("challenge", challenge))
            if case .send(let response) = client.handleDatagram(challenge, now: 1) {
                seeds.append(("response", response))
                if case .established(_, let welcome) = server.handle(response, from: clientAddress) {
                    seeds.append(("welcome", welcome))
                }
                if let refused = server.refusal(answering: response, reason: .badAuth) {
                    seeds.append(("refused", refused))
                }
            }
        }
        var sender = ReliableSession(setup: setup(.client), cryptography: cryptography, now: 0)
        try? sender.send(Array("a small message".utf8), now: 0)
        try? sender.send([UInt8](repeating: 0x5A, count: 3000), now: 0)
        var index = 0
        while let datagram = sender.pollDatagram(now: 0) {
            seeds.append(("data-\(index)", datagram.bytes))
            index += 1
        }
        sender.close(.normal, now: 1)
        while let datagram = sender.pollDatagram(now: 1) { seeds.append(("close", datagram.bytes)) }
        return seeds
    }

    /// Writes the seeds into `directory` when the environment asks (RELIABLE_FUZZ_SEEDS=dir), then exits.
    static func writeSeedsIfAsked() {
        guard let directory = getenv("RELIABLE_FUZZ_SEEDS").map({ String(cString: $0) }) else { return }
        for (name, bytes) in seeds() {
            guard let file = fopen(directory + "/" + name, "wb") else { continue }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
        exit(0)
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    FuzzFixtures.writeSeedsIfAsked()
    return 0
}
