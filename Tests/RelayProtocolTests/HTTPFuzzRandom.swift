import TestSupport

/// The seeded generator of the parser fuzz tests and the link simulations (TestSupport's `SeededRandom`).
typealias HTTPFuzzRandom = SeededRandom
