// libFuzzer entry point for what a cluster node parses from the network: the static heartbeat (as sent, and
// sealed under the real key so the parser behind the tag is reached) and the HTTP responses of etcd's gateway.
// Built by Tools/fuzz/run-cluster with Sources/RelayProtocol/**/*.swift (no module, so internal API is visible).
// Every broken invariant traps, which libFuzzer reports as a crash with its input.
#if canImport(Glibc)
import Glibc
#endif

let fuzzKey = HMACSHA256(key: Array(repeating: UInt8(0x5A), count: 32))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCluster(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    checkHeartbeat(input)
    // The same bytes with a valid tag: what a peer holding the key (or a bug) can make the decoder read.
    if input.count <= ClusterHeartbeat.maximumSize - HMACSHA256.byteCount {
        checkHeartbeat(input + fuzzKey.authenticationCode(for: input))
    }
    checkResponse(input)
    checkEtcdReplies(input)
    return 0
}

func checkHeartbeat(_ datagram: [UInt8]) {
    let result = Result { () throws(ClusterHeartbeatError) in try ClusterHeartbeat.decode(datagram, mac: fuzzKey) }
    switch result {
    case .success(let beat):
        precondition(!beat.nodeID.isEmpty, "a heartbeat without a node id decoded")
        let texts = (beat.scores ?? []).flatMap(\.servers).flatMap { [$0.downReason, $0.lastError] }.compactMap { $0 }
        if texts.allSatisfy({ $0.utf8.count <= ClusterHeartbeat.maximumTextBytes }) {
            let again = try? beat.encoded(mac: fuzzKey)
            precondition(again == datagram, "a heartbeat re-encodes differently")
        }
    case .failure(let error):
        precondition(!error.description.isEmpty, "an error without a description")
    }
}

func checkResponse(_ bytes: [UInt8]) {
    let parser = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 2048, maxBodyBytes: 4096))
    for atEnd in [false, true] {
        guard let parsed = try? parser.parse(bytes, atEnd: atEnd) else { continue }
        let (response, used) = parsed
        precondition(used > 0 && used <= bytes.count, "a response took bytes it was not given")
        precondition(response.body.count <= 4096, "a body over the limit")
        precondition((100...599).contains(response.status), "a status out of range")
    }
    _ = Base64.decode(String(decoding: bytes, as: UTF8.self))
}

/// Every etcd reply decoder on the input: typed errors only, and a publication that decodes re-encodes to one that
/// decodes the same.
func checkEtcdReplies(_ body: [UInt8]) {
    _ = try? EtcdGateway.decodeGrant(body)
    _ = try? EtcdGateway.decodeKeepAlive(body)
    _ = try? EtcdGateway.decodeTxn(body)
    _ = try? EtcdGateway.decodeRange(body)
    _ = try? EtcdGateway.decodeAcknowledgement(body)
    _ = EtcdGateway.errorMessage(body)
    if let publication = try? EtcdScorePublication.decode(body) {
        let again = try? EtcdScorePublication.decode(publication.encoded())
        precondition(again == publication, "a publication does not survive re-encoding")
    }
}

/// Writes seeds (valid heartbeats and replies) into the directory CLUSTER_FUZZ_SEEDS names, then exits.
@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("CLUSTER_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    let server = ClusterServerScore(address: "127.0.0.1:9001", healthy: true, measured: true, total: 80, latency: 40,
                                    latencyMs: 1.5, jitterMs: 0.25, successRate: 1, consecutiveSuccesses: 3,
                                    probes: 3, downReason: "probe failed", lastError: "refused")
    let leader = ClusterHeartbeat(nodeID: "n1", stamp: 1, term: 2, leader: "n1", claimsLeadership: true,
                                  scores: [ClusterGroupScores(group: "web", servers: [server])])
    let follower = ClusterHeartbeat(nodeID: "n2", stamp: 9, term: 2, leader: "n1", claimsLeadership: false)
    var seeds: [(String, [UInt8])] = []
    for (name, beat) in [("leader", leader), ("follower", follower)] {
        if let bytes = try? beat.encoded(mac: fuzzKey) { seeds.append((name, bytes)) }
    }
    seeds.append(("length", Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}".utf8)))
    seeds.append(("txn", Array(#"{"header":{"revision":"32"},"responses":[{"response_range":{"kvs":[{"key":"L3IvbGVhZGVy","create_revision":"31","value":"bjE=","lease":"77"}]}}]}"#.utf8)))
    seeds.append(("keepalive", Array(#"{"result":{"header":{},"ID":"1","TTL":"5"}}"#.utf8)))
    seeds.append(("error", Array(#"{"error":{"grpc_code":5,"message":"etcdserver: requested lease not found"}}"#.utf8)))
    seeds.append(("publication", EtcdScorePublication(term: 3, leader: "n1",
                                                      scores: ClusterGroupScores(group: "web", servers: [server])).encoded()))
    seeds.append(("chunked", Array("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n".utf8)))
    for (name, bytes) in seeds {
        guard let file = fopen(directory + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}
