import Synchronization

/// A small, fast, thread-safe pseudo-random generator for balancing decisions (not for secrets).
///
/// SplitMix64: the state is a counter that advances by a fixed odd constant, and each output is that
/// counter scrambled by two multiply-xorshift rounds. Because the only shared step is one atomic add,
/// concurrent callers never lock and never receive the same output; a fixed seed makes a test's
/// sequence reproducible when it runs on one thread.
struct SplitMix64: ~Copyable, Sendable {
    /// The counter; each call takes the next value.
    private let state: Atomic<UInt64>

    /// Starts at `seed`, or at a value from the system generator when nil.
    init(seed: UInt64? = nil) {
        var system = SystemRandomNumberGenerator()
        state = Atomic(seed ?? system.next())
    }

    /// The next 64 random bits.
    borrowing func next() -> UInt64 {
        Self.mix(state.wrappingAdd(Self.gamma, ordering: .relaxed).newValue)
    }

    /// The step between counter values: 2^64 divided by the golden ratio, rounded to odd.
    static let gamma: UInt64 = 0x9E37_79B9_7F4A_7C15

    /// SplitMix64's output function: a bijection on 64 bits in which every input bit flips each output
    /// bit with probability close to 1/2 (full avalanche).
    ///
    /// From Steele, Lea and Flood, "Fast Splittable Pseudorandom Number Generators" (OOPSLA 2014): the
    /// finalizer of MurmurHash3 (`fmix64`) with the shifts and multipliers of David Stafford's "Mix13".
    /// The consistent-hash ring uses it on its own to turn client IPs and node seeds into positions.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<bound` (`bound` > 0), without modulo bias.
    ///
    /// Lemire's method: the high half of `random × bound` is uniform once the rare low halves below
    /// `2^64 mod bound` are rejected; the division only happens when a draw lands in that zone.
    borrowing func next(below bound: UInt64) -> UInt64 {
        precondition(bound > 0, "empty range")
        var product = next().multipliedFullWidth(by: bound)
        if product.low < bound {
            let threshold = (0 &- bound) % bound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: bound)
            }
        }
        return product.high
    }
}
