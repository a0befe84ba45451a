import Foundation
import RelayIO
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// An echo backend that counts the connections it accepted and holds open, and can close every connection
/// that has not sent data (as a server purging idle keep-alive connections does).
final class PoolBackend: TestServer {
    let listener: TCPListener
    let task: Task<Void, Never>
    private let state = PoolBackendState()

    init() throws {
        let loop = clientLoops.next()
        let listener = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: loop, reusePort: false)
        self.listener = listener
        let state = self.state
        self.task = Task(executorPreference: loop) {
            await withDiscardingTaskGroup { group in
                do {
                    for try await accepted in listener.connections() {
                        group.addTask(executorPreference: loop) {
                            guard let connection = try? TCPConnection(adopting: accepted, on: loop) else { return }
                            let id = state.withLock { state -> Int in
                                state.accepted += 1
                                state.open += 1
                                state.next += 1
                                state.idle[state.next] = connection
                                return state.next
                            }
                            defer {
                                state.withLock { state in
                                    state.open -= 1
                                    state.idle[id] = nil
                                }
                                connection.close()
                            }
                            guard await connection.bringsData() else { return }
                            state.withLock { _ = $0.idle.removeValue(forKey: id) }
                            _ = await TCPRelay.pump(from: connection, to: connection, pool: connection.loop.buffers)
                        }
                    }
                } catch {}
            }
        }
    }

    var address: SocketAddress { listener.localAddress }
    var accepted: Int { state.withLock { $0.accepted } }
    var open: Int { state.withLock { $0.open } }
    var idle: Int { state.withLock { $0.idle.count } }

    /// Closes every connection that has not sent a byte.
    func closeIdle() {
        let idle = state.withLock { Array($0.idle.values) }
        for connection in idle { connection.shutdownBoth() }
    }

    func stop() async {
        listener.stop()
        task.cancel()
        await task.value
        listener.close()
    }
}

/// What a `PoolBackend` counts, behind one lock.
final class PoolBackendState: Sendable {
    private let storage = SanitizerVisibleMutex<(accepted: Int, open: Int, idle: [Int: TCPConnection], next: Int)>(
        (0, 0, [:], 0))

    func withLock<T: Sendable>(_ body: (inout (accepted: Int, open: Int, idle: [Int: TCPConnection], next: Int)) -> T) -> T {
        storage.withLock(body)
    }
}

/// Config text for one TCP listener in front of `servers` with `pool`.
private func poolConfig(servers: [SocketAddress], pool: String, selector: String = "") -> String {
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
        {
          listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app" } ],
          backends: { app: { servers: [\(list)], probe: { interval: "200ms", timeout: "300ms" },
                             selector: { evaluation_interval: "100ms", debounce: "0s" \(selector) },
                             pool: { \(pool) } } },
          drain_timeout: "2s",
          io: { loops: 2 },
        }
        """
}

@Suite struct PoolSizingTests {
    @Test func staticPoolKeepsItsSize() {
        var sizing = PoolSizing(config: PoolConfig(strategy: .static, sizePerRemote: 7))
        sizing.observe(concurrency: 100)
        #expect(sizing.tick() == 0)
        #expect(sizing.size == 7)
    }

    @Test func dynamicPoolStepsUpTowardPeakTimesBuffer_byAtMostTheIncrement() {
        var sizing = PoolSizing(config: PoolConfig(strategy: .dynamic, minSize: 2, maxSize: 100,
                                                   targetBufferRatio: 0.2, scaleUpIncrement: 10, scaleDownIncrement: 5))
        #expect(sizing.size == 2)
        sizing.observe(concurrency: 30)
        #expect(sizing.target == 36)
        #expect(sizing.tick() == 10)
        #expect(sizing.tick() == 10)
        #expect(sizing.tick() == 10)
        #expect(sizing.tick() == 4)
        #expect(sizing.size == 36)
        #expect(sizing.tick() == 0)
        #expect(sizing.scaleUps == 4)
    }

    @Test func dynamicPoolShrinksOnceThePeakLeavesTheWindow() {
        var sizing = PoolSizing(config: PoolConfig(strategy: .dynamic, minSize: 4, maxSize: 100,
                                                   targetBufferRatio: 0, scaleUpIncrement: 100, scaleDownIncrement: 5))
        sizing.observe(concurrency: 20)
        sizing.tick()
        #expect(sizing.size == 20)
        // The peak is remembered for the window, then the size steps down to min_size.
        for _ in 0..<PoolSizing.peakWindow { #expect(sizing.tick() == 0) }
        #expect(sizing.tick() == -5)
        #expect(sizing.tick() == -5)
        #expect(sizing.tick() == -5)
        #expect(sizing.tick() == -1)
        #expect(sizing.size == 4)
        #expect(sizing.scaleDowns == 4)
    }

    @Test func dynamicTargetIsClampedToMinAndMax() {
        var sizing = PoolSizing(config: PoolConfig(strategy: .dynamic, minSize: 3, maxSize: 8, targetBufferRatio: 1))
        #expect(sizing.target == 3)
        sizing.observe(concurrency: 50)
        #expect(sizing.target == 8)
    }
}

@Suite struct PoolConfigTests {
    @Test func defaultsFollowTheSeed() throws {
        let config = try RelayConfig.parse(#"{ backends: { a: { servers: ["127.0.0.1:1"] } } }"#)
        let pool = try #require(config.backends["a"]).pool
        #expect(pool.strategy == .none)
        #expect(pool.sizePerRemote == 50 && pool.minSize == 20 && pool.maxSize == 500)
        #expect(pool.scalingInterval == .seconds(1) && pool.targetBufferRatio == 0.2)
        #expect(pool.scaleUpIncrement == 10 && pool.scaleDownIncrement == 5)
        #expect(pool.dialTimeout == .seconds(1) && pool.idleTimeout == .seconds(600) && pool.drainTimeout == .seconds(30))
    }

    @Test func everyKnobIsRead() throws {
        let config = try RelayConfig.parse("""
            { backends: { a: { servers: ["127.0.0.1:1"], pool: {
                strategy: "dynamic", static: { size_per_remote: 9 },
                dynamic: { min_size: 3, max_size: 30, scaling: { interval: "250ms", target_buffer_ratio: 0.5,
                                                                  scale_up_increment: 4, scale_down_increment: 2 } },
                dial_timeout: "300ms", idle_timeout: "1m", drain_timeout: "0s" } } } }
            """)
        let pool = try #require(config.backends["a"]).pool
        #expect(pool == PoolConfig(strategy: .dynamic, sizePerRemote: 9, minSize: 3, maxSize: 30,
                                   scalingInterval: .milliseconds(250), targetBufferRatio: 0.5, scaleUpIncrement: 4,
                                   scaleDownIncrement: 2, dialTimeout: .milliseconds(300), idleTimeout: .seconds(60),
                                   drainTimeout: .zero))
    }

    @Test func badPoolsAreRefusedWithTheirPath() {
        for (text, path) in [
            (#"pool: { strategy: "lazy" }"#, "backends.a.pool.strategy"),
            (#"pool: { dynamic: { min_size: 10, max_size: 5 } }"#, "backends.a.pool.dynamic.min_size"),
            (#"pool: { dynamic: { scaling: { intervl: "1s" } } }"#, "backends.a.pool.dynamic.scaling.intervl"),
            (#"pool: { static: { size_per_remote: 0 } }"#, "backends.a.pool.static.size_per_remote"),
        ] {
            #expect {
                _ = try RelayConfig.parse(#"{ backends: { a: { servers: ["127.0.0.1:1"], "# + text + " } } }")
            } throws: { error in
                (error as? ConfigError)?.issues.contains { $0.path == path } == true
            }
        }
    }

    @Test func aUDPListenerCannotUseAPooledGroup() {
        #expect {
            _ = try RelayConfig.parse("""
                { listeners: [ { name: "dns", protocol: "udp", listen: "127.0.0.1:0", backend: "a" } ],
                  backends: { a: { servers: ["127.0.0.1:1"], pool: { strategy: "static" } } } }
                """)
        } throws: { error in
            (error as? ConfigError)?.issues.contains { $0.path == "listeners[0].backend" && $0.message.contains("pool") } == true
        }
    }
}

@Suite struct ConnectionPoolTests {
    @Test func warmUpReachesMinSize_andClientsGetWarmConnections() async throws {
        try await withTestServer(PoolBackend()) { backend in
            let config = poolConfig(servers: [backend.address],
                                    pool: #"strategy: "dynamic", dynamic: { min_size: 12, max_size: 40 }"#)
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("12 warm connections") { pools.serverPools.first?.available == 12 }
                // The probes connect too, so the backend sees at least the pool's connections (its accept loop may
                // still be catching up when the pool counts them warm).
                try await eventually("the backend holds 12 idle connections") { backend.idle >= 12 }
                let pool = try #require(pools.serverPools.first)
                for index in 0..<10 {
                    try await echoRoundTrip(try relay.address("web"), "pooled-\(index)")
                }
                #expect(pool.hits.value == 10)
                #expect(pool.misses.value == 0)
                // Each connection taken is replaced.
                try await eventually("12 warm connections again") { pool.available == 12 }
            }
        }
    }

    @Test func connectionsTheBackendClosed_areNeverHandedToAClient() async throws {
        try await withTestServer(PoolBackend()) { backend in
            let config = poolConfig(servers: [backend.address], pool: #"strategy: "static", static: { size_per_remote: 6 }"#)
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("6 warm connections") { pools.serverPools.first?.available == 6 }
                let pool = try #require(pools.serverPools.first)
                // The pool counts a connection warm once the kernel completes it; the backend sees it when it
                // accepts it, and can only drop what it has seen.
                try await eventually("the backend holds the 6 warm connections") { backend.idle >= 6 }
                // The server drops its idle connections (a restart, an idle timeout of its own). On loopback the
                // FIN has reached the pool's socket by the time shutdown() returns: nothing to wait for.
                backend.closeIdle()
                for index in 0..<12 {
                    try await echoRoundTrip(try relay.address("web"), "after-close-\(index)")
                }
                #expect(pool.discarded.value >= 1, "the dead connections were found and closed")
                #expect(pool.hits.value + pool.misses.value == 12)
            }
        }
    }

    @Test func dynamicPoolFollowsALoadStepUpAndDown() async throws {
        try await withTestServer(PoolBackend()) { backend in
            let config = poolConfig(servers: [backend.address], pool: """
                strategy: "dynamic", dynamic: { min_size: 2, max_size: 40,
                  scaling: { interval: "100ms", target_buffer_ratio: 0.5, scale_up_increment: 4, scale_down_increment: 3 } }
                """)
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("2 warm connections") { pools.serverPools.first?.available == 2 }
                let pool = try #require(pools.serverPools.first)

                // Load step up: 10 connections held open → target 15.
                var held: [TestClient] = []
                for index in 0..<10 {
                    let client = try await TestClient.connect(try relay.address("web"))
                    try await client.send("hold-\(index)")
                    _ = try await client.read(exactly: "hold-\(index)".utf8.count)
                    held.append(client)
                }
                try await eventually("the pool grows to 15 (size \(pool.size))") { pool.size == 15 }
                #expect(pool.sizing.scaleUps >= 3)
                #expect(pool.sizing.peak == 10)
                // 15 warm beside the 10 in use: the busiest moment could start over at once.
                try await eventually("15 warm connections (\(pool.available))") { pool.available == 15 }

                // Load step down: the size returns to min_size once the peak leaves the window.
                for client in held { client.close() }
                try await eventually("the pool shrinks to 2 (size \(pool.size))") { pool.size == 2 }
                #expect(pool.sizing.scaleDowns >= 3)
                try await eventually("2 warm connections (\(pool.available))") { pool.available == 2 }
            }
        }
    }

    @Test func aServerLeavingTheActiveSetIsDrained_andTheNewOneWarmed() async throws {
        try await withTestServers { servers in
            let first = servers.add(try PoolBackend())
            let second = servers.add(try PoolBackend())
            let config = poolConfig(servers: [first.address, second.address],
                                    pool: #"strategy: "static", static: { size_per_remote: 4 }, drain_timeout: "200ms""#,
                                    selector: ", active_set_size: 1")
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("one server pool with 4 warm connections") {
                    pools.serverPools.count == 1 && pools.serverPools[0].available == 4
                }
                let leaving = try #require(pools.serverPools.first?.server)
                let (leavingBackend, stayingBackend) = leaving.address == first.address ? (first, second) : (second, first)
                try await eventually("the leaving server holds its 4 warm connections") { leavingBackend.idle >= 4 }

                await group.setDrained(leaving, true)
                // The other server joins the active set and is warmed; the leaving one's warm connections close
                // after drain_timeout.
                try await eventually("the leaving server's pool is gone") { pools.pool(for: leaving) == nil }
                try await eventually("the new server's pool is warm") { pools.serverPools.first?.available == 4 }
                try await eventually("the leaving server's idle connections closed (\(leavingBackend.idle) left)") {
                    leavingBackend.idle == 0
                }
                try await eventually("the staying server holds its 4 warm connections") { stayingBackend.idle >= 4 }
            }
        }
    }

    /// A warm connection that received data while idle is not usable.
    /// A connection whose dial finished after the sweep read the clock is new, not stale.
    @Test func sweepKeepsConnectionsDialedAfterItsClockReading() async throws {
        try await withTestServer(PoolBackend()) { backend in
            let server = ServerHandle(group: "g", address: backend.address)
            let pool = ServerPool(server: server, config: PoolConfig(strategy: .static, sizePerRemote: 2))
            let now = EventLoop.now()
            let connection = try await TCPConnection.connect(to: backend.address, on: clientLoops.next(), timeout: .seconds(2))
            #expect(pool.offer(connection, now: now + 1_000_000))
            #expect(pool.sweep(now: now, idleTimeout: .seconds(600)) == 0)
            #expect(pool.available == 1)
            pool.close()
        }
    }

    /// Under a steady rate the pool keeps its size warm: every take is replaced, whatever is in use.
    @Test func takesAreReplacedEvenWhileMoreThanTheSizeIsInUse() async throws {
        try await withTestServer(PoolBackend()) { backend in
            let config = poolConfig(servers: [backend.address], pool: #"strategy: "static", static: { size_per_remote: 3 }"#)
            try await withRelay(config) { relay in
                let group = try #require(relay.server.backendGroups["app"])
                let pools = try #require(group.pool)
                try await eventually("3 warm connections") { pools.serverPools.first?.available == 3 }
                let pool = try #require(pools.serverPools.first)
                var held: [TestClient] = []
                for index in 0..<8 {
                    let client = try await TestClient.connect(try relay.address("web"))
                    try await client.send("held-\(index)")
                    _ = try await client.read(exactly: "held-\(index)".utf8.count)
                    held.append(client)
                    try await eventually("3 warm connections with \(index + 1) in use (\(pool.available))") { pool.available == 3 }
                }
                #expect(pool.hits.value == 8)
                for client in held { client.close() }
            }
        }
    }

    @Test func aConnectionThatReceivedDataIsNotUsable() async throws {
        let loop = clientLoops.next()
        let talker = try TCPListener(bindingTo: try SocketAddress(ip: "127.0.0.1", port: 0), on: loop, reusePort: false)
        defer { talker.close() }
        try await withTestServer(PoolBackend()) { quiet in
            let dirty = try await TCPConnection.connect(to: talker.localAddress, on: loop, timeout: .seconds(2))
            defer { dirty.close() }
            let accepted = try TCPConnection(adopting: try await talker.accept(), on: loop)
            defer { accepted.close() }
            #expect(ServerPool.isUsable(dirty))
            try await accepted.write(Array("banner".utf8))
            let clean = try await TCPConnection.connect(to: quiet.address, on: loop, timeout: .seconds(2))
            defer { clean.close() }
            try await eventually("the banner makes the connection unusable") { !ServerPool.isUsable(dirty) }
            #expect(ServerPool.isUsable(clean))
        }
    }
}
