/// What an `ImpairedLink` does to each datagram, in each direction on its own: drop it, send it twice, delay it
/// by a base delay plus a uniform jitter, and hold some back longer so that later ones overtake them.
public struct LinkImpairment: Sendable {
    /// Probability that a datagram is dropped (0...1).
    public var loss: Double
    /// Probability that a datagram is delivered twice.
    public var duplication: Double
    /// Probability that a datagram is held back an extra `reorderDelay`, so later ones pass it.
    public var reordering: Double
    /// Every datagram's delay before the jitter.
    public var delay: Duration
    /// A uniform extra delay from 0 to this.
    public var jitter: Duration
    /// The extra delay of a reordered datagram.
    public var reorderDelay: Duration
    /// Seeds the link's random numbers, so a failing run can be repeated.
    public var seed: UInt64

    public init(loss: Double = 0, duplication: Double = 0, reordering: Double = 0, delay: Duration = .zero,
                jitter: Duration = .zero, reorderDelay: Duration = .milliseconds(15), seed: UInt64 = 1) {
        self.loss = loss
        self.duplication = duplication
        self.reordering = reordering
        self.delay = delay
        self.jitter = jitter
        self.reorderDelay = reorderDelay
        self.seed = seed
    }

    /// A clean link: every datagram at once.
    public static let none = LinkImpairment()

    /// The link of the reliability tests: 10% loss, 2% duplicated, 5% reordered, 2 ms ± 3 ms of delay.
    public static func harsh(seed: UInt64 = 1) -> LinkImpairment {
        LinkImpairment(loss: 0.10, duplication: 0.02, reordering: 0.05, delay: .milliseconds(2),
                       jitter: .milliseconds(3), reorderDelay: .milliseconds(10), seed: seed)
    }
}
