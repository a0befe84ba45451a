import RelayProtocol
import Testing
@testable import RelayCore

/// The etcd gateway's requests as text, and the replies etcd 3.4 gives, decoded.
@Suite struct EtcdGatewayTests {
    func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func requestBodies() {
        #expect(EtcdGateway.grant(ttlSeconds: 5) == EtcdCall(path: "/v3/lease/grant", body: #"{"TTL":5}"#))
        #expect(EtcdGateway.keepAlive(lease: 4111120226669856005).body == #"{"ID":"4111120226669856005"}"#)
        #expect(EtcdGateway.put(key: "/r/members/n1", value: bytes("x"), lease: 7).body
                == #"{"key":"L3IvbWVtYmVycy9uMQ==","value":"eA==","lease":"7"}"#)
        #expect(EtcdGateway.campaign(key: "/r/leader", value: bytes("n1"), lease: 7).body
                == #"{"compare":[{"target":"CREATE","key":"L3IvbGVhZGVy","create_revision":"0"}],"#
                + #""success":[{"request_put":{"key":"L3IvbGVhZGVy","value":"bjE=","lease":"7"}}],"#
                + #""failure":[{"request_range":{"key":"L3IvbGVhZGVy"}}]}"#)
        #expect(EtcdGateway.putIfLeader(leaderKey: "/r/leader", term: 12, key: "/r/s", value: bytes("v")).body
                == #"{"compare":[{"target":"CREATE","key":"L3IvbGVhZGVy","create_revision":"12"}],"#
                + #""success":[{"request_put":{"key":"L3Ivcw==","value":"dg=="}}]}"#)
        // range_end is the prefix with its last byte raised: "/r/" → "/r0".
        #expect(EtcdGateway.range(prefix: "/r/").body == #"{"key":"L3Iv","range_end":"L3Iw"}"#)
        #expect(EtcdGateway.delete(key: "/r/leader") == EtcdCall(path: "/v3/kv/deleterange", body: #"{"key":"L3IvbGVhZGVy"}"#))
        #expect(EtcdGateway.revoke(lease: 7) == EtcdCall(path: "/v3/lease/revoke", body: #"{"ID":"7"}"#))
        #expect(EtcdGateway.prefixEnd([0x61, 0xFF]) == [0x62])
        #expect(EtcdGateway.prefixEnd([0xFF]) == [0])
    }

    @Test func grantAndKeepalive() throws {
        let grant = try EtcdGateway.decodeGrant(bytes(
            #"{"header":{"cluster_id":"14841639068965178418","revision":"9"},"ID":"4111120226669856005","TTL":"5"}"#))
        #expect(grant.lease == 4111120226669856005 && grant.ttl == 5)
        #expect(try EtcdGateway.decodeKeepAlive(bytes(#"{"result":{"header":{},"ID":"1","TTL":"5"}}"#)) == 5)
        // An expired lease: etcd leaves TTL (0) out.
        #expect(try EtcdGateway.decodeKeepAlive(bytes(#"{"result":{"header":{},"ID":"1"}}"#)) == 0)
    }

    @Test func electionWinnerAndLoser() throws {
        let won = try EtcdGateway.decodeTxn(bytes(
            #"{"header":{"revision":"31"},"succeeded":true,"responses":[{"response_put":{"header":{}}}]}"#))
        #expect(won == EtcdTxnResult(succeeded: true, revision: 31, kvs: []))
        // The loser's reply has no `succeeded` and carries the holder.
        let lost = try EtcdGateway.decodeTxn(bytes(
            #"{"header":{"revision":"32"},"responses":[{"response_range":{"header":{},"kvs":[{"key":"L3IvbGVhZGVy","#
            + #""create_revision":"31","mod_revision":"31","version":"1","value":"bjE=","lease":"77"}],"count":"1"}}]}"#))
        #expect(!lost.succeeded && lost.revision == 32)
        #expect(lost.kvs == [EtcdKeyValue(key: "/r/leader", value: bytes("n1"), createRevision: 31, modRevision: 31,
                                          lease: 77)])
    }

    @Test func rangeAndErrors() throws {
        let range = try EtcdGateway.decodeRange(bytes(#"{"header":{"revision":"5"}}"#))
        #expect(range.revision == 5 && range.kvs.isEmpty)
        #expect(throws: EtcdError.server("etcdserver: requested lease not found")) {
            try EtcdGateway.decodeKeepAlive(bytes(
                #"{"error":{"grpc_code":5,"http_code":404,"message":"etcdserver: requested lease not found"}}"#))
        }
        #expect(throws: EtcdError.server("etcdserver: key not found")) {
            try EtcdGateway.decodeAcknowledgement(bytes(#"{"error":"etcdserver: key not found","code":5}"#))
        }
        #expect(throws: EtcdError.self) { try EtcdGateway.decodeRange(bytes("<html>")) }
        #expect(throws: EtcdError.self) { try EtcdGateway.decodeRange(bytes(#"{"kvs":[{"key":"!!"}]}"#)) }
        #expect(throws: EtcdError.self) { try EtcdGateway.decodeGrant(bytes(#"{"ID":"x","TTL":"5"}"#)) }
    }

    @Test func scorePublicationRoundTrips() throws {
        let publication = EtcdScorePublication(term: 31, leader: "n1", scores: ClusterGroupScores(group: "web", servers: [
            ClusterServerScore(address: "127.0.0.1:9001", healthy: true, measured: true, total: 91.25, latency: 45,
                               jitter: 15, success: 31.25, latencyMs: 0.25, jitterMs: 0.125, successRate: 0.78125,
                               consecutiveSuccesses: 4, probes: 4),
            ClusterServerScore(address: "127.0.0.1:9002", healthy: false, measured: true, penalty: 14.5,
                               consecutiveFailures: 3, probes: 3, downReason: "3 consecutive failures",
                               lastError: "connect: Connection refused \"quoted\""),
        ]))
        #expect(try EtcdScorePublication.decode(publication.encoded()) == publication)
        #expect(throws: EtcdError.self) { try EtcdScorePublication.decode(bytes(#"{"term":"0"}"#)) }
    }
}
