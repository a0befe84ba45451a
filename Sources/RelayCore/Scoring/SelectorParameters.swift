/// How the Selector turns scores into an active set (`selector` in a backend group).
public struct SelectorParameters: Sendable, Equatable {
    /// How often the ranking is re-evaluated.
    public var evaluationInterval: Duration = .seconds(30)
    /// How many servers the active set holds.
    public var activeSetSize: Int = 3
    /// Servers scoring below this never enter the active set.
    public var minScore: Double = 15
    /// After a switch, further switches wait this long…
    public var debounce: Duration = .seconds(60)
    /// …unless the new set's average score beats the current one's by at least this much.
    public var improvementThreshold: Double = 5

    public init() {}
}
