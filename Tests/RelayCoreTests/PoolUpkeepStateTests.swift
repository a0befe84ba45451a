import Testing
@testable import RelayCore

/// The connection pool's upkeep decisions with an injected clock (monotonic nanoseconds), pass by pass: no
/// socket, no sleep. ConnectionPoolTests checks that the actor carries them out against real backends.
@Suite struct PoolUpkeepStateTests {
    typealias State = PoolUpkeepState
    typealias Action = PoolUpkeepState.Action

    let a = scoringServer(9001, group: "app"), b = scoringServer(9002, group: "app")
    let ms: UInt64 = 1_000_000
    /// Where every test's clock starts; far from 0, as a monotonic clock is.
    let t0: UInt64 = 1_000_000_000_000

    func at(_ milliseconds: UInt64) -> UInt64 { t0 + milliseconds * ms }

    static func staticPool(_ size: Int, drain: Duration = .seconds(30), idle: Duration = .seconds(600)) -> PoolConfig {
        PoolConfig(strategy: .static, sizePerRemote: size, idleTimeout: idle, drainTimeout: drain)
    }

    /// Only the dials, pool creations and closings of a pass (not the interval actions).
    func poolActions(_ actions: [Action]) -> [Action] {
        actions.filter { $0 != .scale && $0 != .sweep }
    }

    /// Upkeep where `a` joined at t0 and its first `size` dials all connected.
    func warmed(_ config: PoolConfig) -> State {
        var state = State(config: config, now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        for _ in 0..<config.sizePerRemote {
            let kept = state.dialFinished(a, pool: 1, .connected, now: at(1))
            #expect(kept)
        }
        return state
    }

    // MARK: - Following the active set

    @Test func joiningServer_getsAPoolAndIsDialedAtOnce() {
        var state = State(config: Self.staticPool(4), now: t0)
        #expect(state.tick(now: t0, active: [b, a], warm: [:])
            == [.createPool(a, 1), .createPool(b, 2), .dial(a, 1, count: 4), .dial(b, 2, count: 4)])
    }

    @Test func dialsTopThePoolUp_countingWarmConnectionsAndDialsInFlight() {
        var state = State(config: Self.staticPool(4), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        #expect(state.tick(now: at(10), active: [a], warm: [a: .init(available: 0, size: 4)]) == [],
                "four dials are in flight")
        for _ in 0..<3 { let kept = state.dialFinished(a, pool: 1, .connected, now: at(11)); #expect(kept) }
        #expect(state.tick(now: at(20), active: [a], warm: [a: .init(available: 3, size: 4)]) == [])
        let kept = state.dialFinished(a, pool: 1, .connected, now: at(21))
        #expect(kept)
        // A client took two: both are replaced, whatever is in use.
        #expect(state.tick(now: at(30), active: [a], warm: [a: .init(available: 2, size: 4)])
            == [.dial(a, 1, count: 2)])
        // A scale-up raised the size.
        for _ in 0..<2 { _ = state.dialFinished(a, pool: 1, .connected, now: at(31)) }
        #expect(state.tick(now: at(40), active: [a], warm: [a: .init(available: 4, size: 7)])
            == [.dial(a, 1, count: 3)])
    }

    @Test func aLargePoolIsWarmedInBurstsOfAtMostDialBurst() {
        var state = State(config: Self.staticPool(100), now: t0)
        #expect(state.tick(now: t0, active: [a], warm: [:]) == [.createPool(a, 1), .dial(a, 1, count: 64)])
        #expect(state.tick(now: at(1), active: [a], warm: [a: .init(available: 0, size: 100)])
            == [.dial(a, 1, count: 36)])
    }

    @Test func leavingServer_getsNoMoreDials_andItsPoolClosesAfterDrainTimeout() {
        var state = warmed(Self.staticPool(4, drain: .milliseconds(200)))
        // It leaves at 50 ms; a client had taken two of its connections.
        #expect(state.tick(now: at(50), active: [], warm: [a: .init(available: 2, size: 4)]) == [])
        #expect(state.entries[a]?.retiredAt == at(50))
        #expect(state.tick(now: at(249), active: [], warm: [a: .init(available: 2, size: 4)]) == [])
        #expect(state.tick(now: at(250), active: [], warm: [a: .init(available: 2, size: 4)]) == [.closePool(a)])
        #expect(state.entries.isEmpty)
        #expect(state.tick(now: at(300), active: [], warm: [:]) == [])
    }

    @Test func aServerThatComesBackBeforeDrainTimeout_keepsItsPool() {
        var state = warmed(Self.staticPool(4, drain: .milliseconds(200)))
        _ = state.tick(now: at(50), active: [], warm: [a: .init(available: 2, size: 4)])
        #expect(state.tick(now: at(100), active: [a], warm: [a: .init(available: 2, size: 4)])
            == [.dial(a, 1, count: 2)])
        #expect(state.entries[a]?.retiredAt == nil)
        #expect(state.tick(now: at(400), active: [a], warm: [a: .init(available: 2, size: 4)]) == [])
    }

    @Test func zeroDrainTimeout_closesThePoolInThePassTheServerLeaves() {
        var state = warmed(Self.staticPool(4, drain: .zero))
        #expect(state.tick(now: at(50), active: [], warm: [a: .init(available: 4, size: 4)]) == [.closePool(a)])
    }

    @Test func aConnectionDialedForARetiredServer_isNotKept() {
        var state = State(config: Self.staticPool(2, drain: .seconds(30)), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        _ = state.tick(now: at(10), active: [], warm: [a: .init(available: 0, size: 2)])
        let kept = state.dialFinished(a, pool: 1, .connected, now: at(11))
        #expect(!kept)
        // Still counted: when the server comes back, one dial is in flight, one is wanted.
        #expect(state.tick(now: at(20), active: [a], warm: [a: .init(available: 0, size: 2)])
            == [.dial(a, 1, count: 1)])
    }

    @Test func aServerBackAfterItsPoolClosed_getsANewPool_andLateDialsOfTheOldOneAreIgnored() {
        var state = State(config: Self.staticPool(3, drain: .zero), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        #expect(state.tick(now: at(10), active: [], warm: [a: .init(available: 0, size: 3)]) == [.closePool(a)])
        #expect(state.tick(now: at(20), active: [a], warm: [:]) == [.createPool(a, 2), .dial(a, 2, count: 3)])
        // The old pool's dials finish now: none feeds the new pool or backs it off.
        let late = [State.DialResult.connected, .failed, .skippedLocally].map {
            state.dialFinished(a, pool: 1, $0, now: at(21))
        }
        #expect(late == [false, false, false])
        #expect(state.entries[a] == State.Entry(id: 2, dialing: 3))
        let kept = state.dialFinished(a, pool: 2, .connected, now: at(22))
        #expect(kept)
    }

    // MARK: - Back-off

    @Test func failedDials_backOff100msDoublingUpTo5s() {
        var state = State(config: Self.staticPool(1), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        var now = t0
        var waits: [UInt64] = []
        for _ in 0..<9 {
            let kept = state.dialFinished(a, pool: 1, .failed, now: now)
            #expect(!kept)
            let next = state.entries[a]!.nextDialAt
            waits.append((next - now) / ms)
            #expect(poolActions(state.tick(now: next - 1, active: [a], warm: [a: .init(available: 0, size: 1)])) == [],
                    "no dial inside the back-off")
            #expect(poolActions(state.tick(now: next, active: [a], warm: [a: .init(available: 0, size: 1)]))
                == [.dial(a, 1, count: 1)])
            now = next
        }
        #expect(waits == [100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000])
    }

    @Test func aDialThatConnects_endsTheBackOff() {
        var state = State(config: Self.staticPool(1), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        for _ in 0..<4 {
            _ = state.dialFinished(a, pool: 1, .failed, now: t0)
            _ = state.tick(now: state.entries[a]!.nextDialAt, active: [a], warm: [a: .init(available: 0, size: 1)])
        }
        let kept = state.dialFinished(a, pool: 1, .connected, now: at(10_000))
        #expect(kept)
        #expect(state.entries[a]?.dialFailures == 0)
        _ = state.tick(now: at(10_001), active: [a], warm: [a: .init(available: 0, size: 1)])
        _ = state.dialFinished(a, pool: 1, .failed, now: at(10_002))
        #expect(state.entries[a]?.nextDialAt == at(10_102), "the next failure starts over at 100 ms")
    }

    /// A dial relayd could not start for lack of its own sockets pauses the pool briefly, but never backs
    /// off from the server the way a refused dial does.
    @Test func localDialFailuresPauseWithoutBackingOffFromTheServer() {
        var local = State(config: Self.staticPool(1), now: t0)
        var remote = State(config: Self.staticPool(1), now: t0)
        let warm: [ServerHandle: State.Warm] = [a: .init(available: 0, size: 1)]
        var now = t0
        _ = local.tick(now: now, active: [a], warm: [:])
        _ = remote.tick(now: now, active: [a], warm: [:])
        for _ in 0..<8 {
            _ = local.dialFinished(a, pool: 1, .skippedLocally, now: now)
            _ = remote.dialFinished(a, pool: 1, .failed, now: now)
            // Always the same short pause for the local shortage...
            #expect(poolActions(local.tick(now: now + State.localPause - 1, active: [a], warm: warm)) == [])
            #expect(poolActions(local.tick(now: now + State.localPause, active: [a], warm: warm))
                == [.dial(a, 1, count: 1)])
            // ...while the server's back-off grows with each failure (up to 5 s).
            now += 5_000 * ms
            #expect(poolActions(remote.tick(now: now, active: [a], warm: warm)) == [.dial(a, 1, count: 1)])
        }
        #expect(local.entries[a]?.dialFailures == 0)
        // The server that refused eight times is backed off from for 5 s.
        _ = remote.dialFinished(a, pool: 1, .failed, now: now)
        #expect(poolActions(remote.tick(now: now + 4_000 * ms, active: [a], warm: warm)) == [])
    }

    @Test func aLocalShortageNeverShortensNorGrowsTheBackOff() {
        var state = State(config: Self.staticPool(5), now: t0)
        _ = state.tick(now: t0, active: [a], warm: [:])
        for _ in 0..<4 { _ = state.dialFinished(a, pool: 1, .failed, now: t0) }
        #expect(state.entries[a]?.nextDialAt == at(800))
        _ = state.dialFinished(a, pool: 1, .skippedLocally, now: t0)
        #expect(state.entries[a]?.nextDialAt == at(800), "the server's back-off stands")
        #expect(state.entries[a]?.dialFailures == 4, "and does not grow")
    }

    // MARK: - Intervals

    @Test func dynamicPoolsScaleEveryScalingInterval() {
        let config = PoolConfig(strategy: .dynamic, minSize: 2, maxSize: 10, scalingInterval: .seconds(1))
        var state = State(config: config, now: t0)
        #expect(!state.tick(now: at(999), active: [], warm: [:]).contains(.scale))
        #expect(state.tick(now: at(1_000), active: [], warm: [:]).contains(.scale))
        #expect(!state.tick(now: at(1_999), active: [], warm: [:]).contains(.scale))
        #expect(state.tick(now: at(2_000), active: [], warm: [:]).contains(.scale))
    }

    @Test func staticPoolsNeverScale() {
        var state = State(config: Self.staticPool(3), now: t0)
        for second: UInt64 in 1...5 {
            #expect(!state.tick(now: at(second * 1_000), active: [], warm: [:]).contains(.scale))
        }
    }

    @Test func sweepsEverySecond_orHalfTheIdleTimeoutWhenShorter() {
        var slow = State(config: Self.staticPool(3), now: t0)
        #expect(slow.sweepPeriod == 1_000 * ms)
        #expect(slow.tick(now: at(999), active: [], warm: [:]) == [])
        #expect(slow.tick(now: at(1_000), active: [], warm: [:]) == [.sweep])
        var fast = State(config: Self.staticPool(3, idle: .seconds(1)), now: t0)
        #expect(fast.tick(now: at(499), active: [], warm: [:]) == [])
        #expect(fast.tick(now: at(500), active: [], warm: [:]) == [.sweep])
        #expect(fast.tick(now: at(999), active: [], warm: [:]) == [])
        #expect(fast.tick(now: at(1_000), active: [], warm: [:]) == [.sweep])
    }

    @Test func intervalActionsComeAfterThePoolsOfThePass() {
        let config = PoolConfig(strategy: .dynamic, minSize: 2, maxSize: 10, scalingInterval: .milliseconds(100),
                                idleTimeout: .milliseconds(200))
        var state = State(config: config, now: t0)
        #expect(state.tick(now: at(100), active: [a], warm: [:]) == [.createPool(a, 1), .dial(a, 1, count: 2), .scale,
                                                                       .sweep])
    }
}
