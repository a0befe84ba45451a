/// The outcome of one reload, for logs, the admin API and metrics.
public struct ReloadResult: Sendable {
    /// The new config runs now (an unchanged one counts as applied).
    public let applied: Bool
    /// "applied", "no change", or why it was refused.
    public let message: String
    /// What changed; nil when refused.
    public let plan: ReloadPlan?
    /// The config generation after the reload.
    public let generation: Int
    /// When the reload finished (wall clock, seconds since 1970).
    public let at: Double = WallClock.seconds()
}
