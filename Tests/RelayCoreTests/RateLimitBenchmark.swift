import RelayIO
import Testing
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// What one rate-limit check costs on the hot path, in nanoseconds.
///
/// A benchmark, not a check: it runs only with `RELAYD_BENCH=1` in the environment (Tools/bench/rate-limit runs
/// it on a release build) and prints its figures. Each case makes a few million checks with a clock that moves
/// 1 µs per check, so buckets refill and refuse as they would under load.
@Suite(.serialized) struct RateLimitBenchmark {
    static let enabled = getenv("RELAYD_BENCH").map { String(cString: $0) == "1" } ?? false

    /// `count` addresses, 10.x.y.z.
    static func addresses(_ count: Int) -> [IPKey] {
        (0..<count).map { index in
            try! SocketAddress(ip: "10.\(index >> 16 & 255).\(index >> 8 & 255).\(index & 255)", port: 0).ipKey
        }
    }

    /// Only the case whose name contains `RELAYD_BENCH_ONLY`, when set (to profile one case alone).
    static let only = getenv("RELAYD_BENCH_ONLY").map { String(cString: $0) }

    /// Runs `body` `count` times and prints the time per call.
    static func measure(_ name: String, count: Int, _ body: (Int) -> Bool) {
        if let only, !name.contains(only) { return }
        var allowed = 0
        let elapsed = ContinuousClock().measure {
            for index in 0..<count where body(index) { allowed += 1 }
        }
        print("rate limit: \(name): \(perCall(elapsed, count)) ns per check (\(allowed) of \(count) allowed)")
    }

    /// Nanoseconds per call, to a tenth.
    static func perCall(_ elapsed: Duration, _ count: Int) -> Double {
        let (seconds, attoseconds) = elapsed.components
        let nanoseconds = (Double(seconds) * 1e9 + Double(attoseconds) / 1e9) / Double(count)
        return (nanoseconds * 10).rounded() / 10
    }

    // The generic `RateLimitTable` is measured through `RateLimitState`, as the listeners use it: called from
    // this module, its unspecialized generic code would be measured instead (several times slower).
    @Test(.enabled(if: enabled, "set RELAYD_BENCH=1 to run benchmarks"))
    func nanosecondsPerCheck() async {
        let count = 4_000_000
        let limit = RateLimit(rate: 50, interval: .seconds(1), burst: 100)
        let total = RateLimit(rate: 10_000, interval: .seconds(1), burst: 20_000)
        let hot = Self.addresses(1)[0]
        let thousand = Self.addresses(1000)
        let spoofed = Self.addresses(1 << 20)

        var bucket = TokenBucket(full: limit, now: 0)
        Self.measure("one token bucket", count: count) { bucket.take(limit, now: UInt64($0) * 1000) }

        var state = RateLimitState(config: RateLimitConfig(perIP: limit), now: 0)
        Self.measure("per_ip table, one address", count: count) {
            state.admitNew(hot, now: UInt64($0) * 1000) == .allowed
        }
        state = RateLimitState(config: RateLimitConfig(perIP: limit), now: 0)
        Self.measure("per_ip table, 1,000 addresses in turn", count: count) {
            state.admitNew(thousand[$0 % 1000], now: UInt64($0) * 1000) == .allowed
        }
        state = RateLimitState(config: RateLimitConfig(perIP: limit), now: 0)
        Self.measure("per_ip table, a new address every check (65,536 tracked, evicting)", count: count) {
            state.admitNew(spoofed[$0 & (1 << 20 - 1)], now: UInt64($0) * 1000) == .allowed
        }
        state = RateLimitState(config: RateLimitConfig(perIP: limit, total: total), now: 0)
        Self.measure("per_ip + total, 1,000 addresses in turn", count: count) {
            state.admitNew(thousand[$0 % 1000], now: UInt64($0) * 1000) == .allowed
        }

        let off = RateLimiter(config: .none, now: 0)
        Self.measure("RateLimiter.admitNew, no limit set", count: count) {
            off.admitNew(ip: thousand[$0 % 1000], now: UInt64($0) * 1000) == .allowed
        }
        let both = RateLimiter(config: RateLimitConfig(perIP: limit, total: total), now: 0)
        Self.measure("RateLimiter.admitNew (with its lock), per_ip + total, 1,000 addresses in turn", count: count) {
            both.admitNew(ip: thousand[$0 % 1000], now: UInt64($0) * 1000) == .allowed
        }

        // Datagrams: a batch of 32 per lock, as the receive loop checks them.
        if let only = Self.only, !"admitPackets".contains(only) { return }
        let packets = RateLimiter(config: RateLimitConfig(packetsPerIP: RateLimit(rate: 5000, interval: .seconds(1),
                                                                                  burst: 10_000)), now: 0)
        let batch = DatagramBatch(capacity: 32, slotSize: 64)
        let peers = try! (0..<1000).map { try SocketAddress(ip: "10.0.\($0 >> 8).\($0 & 255)", port: 5353) }
        let payload = [UInt8](repeating: 7, count: 64)
        let batches = count / 32
        func fill(_ round: Int) {
            batch.reset()
            payload.withUnsafeBytes { bytes in
                for slot in 0..<32 { _ = batch.append(bytes, to: peers[(round * 32 + slot) % 1000]) }
            }
        }
        var dropped = 0
        let elapsed = ContinuousClock().measure {
            for round in 0..<batches {
                fill(round)
                dropped += packets.admitPackets(in: batch, now: UInt64(round) * 32_000)
            }
        }
        let filling = ContinuousClock().measure {
            for round in 0..<batches { fill(round) }
        }
        print("rate limit: admitPackets, batches of 32 from 1,000 addresses: "
              + "\(Self.perCall(max(.zero, elapsed - filling), batches * 32)) ns per datagram (\(dropped) dropped), "
              + "not counting filling the batch")
    }
}
