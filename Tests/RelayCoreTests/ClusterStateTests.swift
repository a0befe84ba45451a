import RelayProtocol
import Testing
@testable import RelayCore

/// Membership, election, terms, fail-open and fencing with an injected clock: dead_after 2 s, heartbeats 0.5 s.
@Suite struct ClusterStateTests {
    let t0 = ContinuousClock.now
    func at(_ milliseconds: Int) -> ContinuousClock.Instant { t0 + .milliseconds(milliseconds) }

    func node(_ id: String, peers: [String] = ["n1", "n2", "n3"]) -> ClusterState {
        ClusterState(nodeID: id, mode: .static, deadAfter: .seconds(2),
                     peers: peers.filter { $0 != id }.map { ($0, "127.0.0.1:7946") }, now: t0)
    }

    var stamp = UInt64(0)
    func beat(_ id: String, stamp: UInt64, term: UInt64 = 0, claims: Bool = false, ready: Bool = true,
              scores: [ClusterGroupScores]? = nil) -> ClusterHeartbeat {
        ClusterHeartbeat(nodeID: id, stamp: stamp, term: term, leader: claims ? id : nil, claimsLeadership: claims,
                         ready: ready, scores: scores)
    }

    @Test func joiningNodeNeitherLeadsNorProbesUntilDeadAfter() {
        var state = node("n1")
        #expect(state.tick(now: at(1000)).isEmpty)
        #expect(!state.isLeader)
        #expect(!state.probesLocally)
        let events = state.tick(now: at(2000))
        #expect(events == [.becameLeader(term: 1), .leaderChanged(from: nil, to: "n1")])
        #expect(state.isLeader && state.probesLocally)
        #expect(state.snapshot(now: at(2000)).leader == "n1")
    }

    @Test func smallestLiveIdLeadsAndOthersFollowItsClaim() {
        var n2 = node("n2")
        _ = n2.receive(beat("n1", stamp: 1, ready: true), from: "127.0.0.1:7946", now: at(100))
        _ = n2.receive(beat("n3", stamp: 1, ready: true), from: "127.0.0.1:7948", now: at(100))
        _ = n2.tick(now: at(2000))
        #expect(!n2.isLeader)
        // n1 is elected but has not claimed yet: no leader known, still inside dead_after, so no probing.
        _ = n2.receive(beat("n1", stamp: 2, ready: true), from: "127.0.0.1:7946", now: at(1900))
        #expect(n2.leader == nil)
        let (verdict, events) = n2.receive(beat("n1", stamp: 3, term: 1, claims: true), from: "a", now: at(2100))
        #expect(verdict == .accepted(adopt: false))
        #expect(events.contains(.leaderChanged(from: nil, to: "n1")))
        #expect(events.contains(.following("n1")))
        #expect(n2.leader == "n1" && n2.term == 1 && !n2.probesLocally)
    }

    @Test func leaderSilentForDeadAfterIsReplacedByTheNextSmallest() {
        var n2 = node("n2")
        _ = n2.receive(beat("n1", stamp: 1, term: 1, claims: true), from: "a", now: at(2500))
        _ = n2.receive(beat("n3", stamp: 1), from: "c", now: at(2500))
        #expect(n2.leader == "n1")
        _ = n2.receive(beat("n3", stamp: 2), from: "c", now: at(4000))
        #expect(n2.tick(now: at(4499)).isEmpty)
        let events = n2.tick(now: at(4500))
        #expect(events == [.memberDead("n1"), .becameLeader(term: 2), .leaderChanged(from: "n1", to: "n2")])
        #expect(n2.leaderChanges == 2)
    }

    @Test func replaysUnknownNodesAndOwnIdAreDropped() {
        var n2 = node("n2")
        #expect(n2.receive(beat("n1", stamp: 10), from: "a", now: at(1)).0 == .accepted(adopt: false))
        #expect(n2.receive(beat("n1", stamp: 10), from: "a", now: at(2)).0 == .replayed)
        #expect(n2.receive(beat("n1", stamp: 9), from: "a", now: at(3)).0 == .replayed)
        #expect(n2.receive(beat("n9", stamp: 1), from: "z", now: at(4)).0 == .unknownNode)
        #expect(n2.receive(beat("n2", stamp: 1), from: "z", now: at(5)).0 == .ownID)
    }

    @Test func noLeaderForDeadAfterFailsOpenAndALeaderEndsIt() {
        var n3 = node("n3")
        // n1 and n2 are alive and ready but neither claims (they cannot hear each other, say): n1 is elected.
        _ = n3.receive(beat("n1", stamp: 1), from: "a", now: at(1500))
        _ = n3.receive(beat("n1", stamp: 2), from: "a", now: at(3000))
        // The time without a leader counts from the end of the joining period.
        #expect(n3.tick(now: at(3999)).isEmpty)
        #expect(n3.tick(now: at(4000)) == [.failingOpen])
        #expect(n3.probesLocally && !n3.isLeader)
        let (_, events) = n3.receive(beat("n1", stamp: 3, term: 4, claims: true), from: "a", now: at(4100))
        #expect(events == [.leaderChanged(from: nil, to: "n1"), .following("n1")])
        #expect(!n3.probesLocally)
    }

    @Test func publicationsOnlyFromTheLeaderAndNeverOfAnOlderTerm() {
        var n2 = node("n2")
        let scores = [ClusterGroupScores(group: "web", servers: [])]
        _ = n2.receive(beat("n3", stamp: 1, term: 5), from: "c", now: at(10))
        let (first, _) = n2.receive(beat("n1", stamp: 1, term: 4, claims: true, scores: scores), from: "a", now: at(20))
        #expect(first == .accepted(adopt: false))  // term 4 < 5, the highest seen
        let (second, _) = n2.receive(beat("n1", stamp: 2, term: 6, claims: true, scores: scores), from: "a", now: at(30))
        #expect(second == .accepted(adopt: true))
        #expect(n2.adoptedTerm == 6)
        let (fromOther, _) = n2.receive(beat("n3", stamp: 2, term: 6, claims: true, scores: scores), from: "c", now: at(40))
        #expect(fromOther == .accepted(adopt: false))  // n3 is not the leader n2 follows
    }

    @Test func aLeaderRaisesItsTermPastARivalsClaim() {
        var n1 = node("n1")
        _ = n1.tick(now: at(2000))
        #expect(n1.isLeader && n1.term == 1)
        _ = n1.receive(beat("n3", stamp: 1, term: 3, claims: true), from: "c", now: at(2100))
        #expect(n1.isLeader)
        #expect(n1.term == 4)
    }

    @Test func aRestartedSmallerNodeWaitsOutItsJoiningThenTakesOverWithAHigherTerm() {
        var n1 = node("n1")
        _ = n1.receive(beat("n2", stamp: 1, term: 7, claims: true), from: "b", now: at(500))
        #expect(n1.leader == "n2" && !n1.isLeader)
        _ = n1.receive(beat("n2", stamp: 2, term: 7, claims: true), from: "b", now: at(1900))
        let events = n1.tick(now: at(2000))
        #expect(events.first == .becameLeader(term: 8))
        #expect(n1.term == 8)
    }

    @Test func reloadKeepsKnownPeersAndForgetsRemovedOnes() {
        var n2 = node("n2")
        _ = n2.receive(beat("n1", stamp: 1), from: "a", now: at(100))
        _ = n2.setPeers([("n1", "127.0.0.1:1"), ("n4", "127.0.0.1:4")], now: at(200))
        let members = n2.snapshot(now: at(300)).members
        #expect(members.map(\.nodeID) == ["n2", "n1", "n4"])
        #expect(members[1].alive && members[1].lastSeenMs == 200 && members[1].address == "127.0.0.1:1")
        #expect(!members[2].alive && members[2].lastSeenMs == nil)
    }

    // MARK: - etcd

    func etcdNode(_ id: String) -> ClusterState {
        ClusterState(nodeID: id, mode: .etcd, deadAfter: .seconds(3), now: t0)
    }

    @Test func etcdWinnerLeadsUntilItsLeaseRunsOut() {
        var n1 = etcdNode("n1")
        let events = n1.etcdWon(term: 42, validUntil: at(3000), now: at(0))
        #expect(events == [.becameLeader(term: 42), .leaderChanged(from: nil, to: "n1")])
        #expect(n1.mayPublish(now: at(2999)))
        n1.etcdLeaseRenewed(validUntil: at(4000))
        #expect(n1.tick(now: at(3500)).isEmpty)
        let expired = n1.tick(now: at(4000))
        #expect(expired.first == .steppedDown(reason: "no keepalive was answered within the lease TTL"))
        #expect(!n1.isLeader && !n1.mayPublish(now: at(4000)))
    }

    @Test func etcdLeaderStepsDownAtOnceWhenAKeepaliveFails() {
        var n1 = etcdNode("n1")
        _ = n1.etcdWon(term: 5, validUntil: at(3000), now: at(0))
        let events = n1.etcdLost(reason: "keepalive failed: etcd unreachable", now: at(100))
        #expect(events.first == .steppedDown(reason: "keepalive failed: etcd unreachable"))
        #expect(!n1.mayPublish(now: at(100)))
        // Nobody else is known to lead: after the TTL it probes for itself.
        #expect(n1.tick(now: at(3100)).contains(.failingOpen))
    }

    @Test func etcdFollowerFollowsTheHolderAndForgetsItWhenEtcdGoesQuiet() {
        var n2 = etcdNode("n2")
        let events = n2.etcdObserved(members: [("n1", "127.0.0.1:1"), ("n2", "127.0.0.1:2")], leader: ("n1", 17),
                                     now: at(100))
        #expect(events.contains(.leaderChanged(from: nil, to: "n1")))
        #expect(n2.term == 17 && !n2.probesLocally)
        let current = n2.acceptsPublication(from: "n1", term: 17)
        let older = n2.acceptsPublication(from: "n1", term: 16)
        #expect(current && !older)
        _ = n2.tick(now: at(3099))
        #expect(n2.leader == "n1")
        #expect(n2.tick(now: at(3100)).contains(.leaderChanged(from: "n1", to: nil)))
        #expect(n2.tick(now: at(6100)).contains(.failingOpen))
    }

    @Test func etcdLeaderThatSeesAnotherHolderStepsDown() {
        var n1 = etcdNode("n1")
        _ = n1.etcdWon(term: 5, validUntil: at(3000), now: at(0))
        let events = n1.etcdObserved(members: [("n2", "b")], leader: ("n2", 9), now: at(10))
        #expect(events.first == .steppedDown(reason: "etcd shows node n2 holding the leader key"))
        #expect(n1.leader == "n2" && n1.term == 9)
    }

    @Test func etcdMemberMissingFromEtcdIsDeadAtOnce() {
        var n1 = etcdNode("n1")
        _ = n1.etcdObserved(members: [("n2", "b"), ("n3", "c")], leader: nil, now: at(0))
        let events = n1.etcdObserved(members: [("n2", "b")], leader: nil, now: at(1000))
        #expect(events.contains(.memberDead("n3")))
    }
}
