import Foundation

/// Random test inputs: SplitMix64 from a seed that is new on each run, so that runs cover new inputs, and that
/// failures print, so that `RELAYD_CRYPTO_SEED=<seed>` replays the run.
struct CryptoTestRandom {
    /// The seed this run started from.
    let seed: UInt64
    /// The generator.
    private var generator: HTTPFuzzRandom

    /// A generator seeded from `RELAYD_CRYPTO_SEED` when set, from the system's generator otherwise.
    init() {
        let fixed = ProcessInfo.processInfo.environment["RELAYD_CRYPTO_SEED"].flatMap { UInt64($0) }
        seed = fixed ?? UInt64.random(in: .min ... .max)
        generator = HTTPFuzzRandom(seed: seed)
    }

    /// A value in `range`.
    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + generator.below(range.count)
    }

    /// A random 32-bit value.
    mutating func word() -> UInt32 {
        UInt32(truncatingIfNeeded: generator.next())
    }

    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
    }

    /// The input lengths of a differential test: the block-boundary cases first, then random lengths in
    /// 0...5000, `count` in all.
    mutating func lengths(_ count: Int) -> [Int] {
        let edges = [0, 1, 15, 16, 17, 55, 56, 63, 64, 65, 127, 128, 129, 255, 256, 257, 1200]
        return edges + (edges.count..<count).map { _ in int(in: 0...5000) }
    }
}
