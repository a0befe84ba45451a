import RelayProtocol

/// One link as the LinkMonitor last measured it, for the admin API, metrics and logs.
public struct LinkStatus: Sendable, Equatable {
    /// The link's configured name.
    public var name: String
    /// Its priority: score points added.
    public var priority: Double
    /// Probing, up or down.
    public var health: MultipathLinkHealth
    /// Whether traffic goes on it now (alone or first of several).
    public var isActive: Bool
    /// Smoothed RTT in milliseconds; nil before the first answer.
    public var smoothedRTTMilliseconds: Double?
    /// RTT variation in milliseconds.
    public var rttVarianceMilliseconds: Double
    /// Heartbeats lost over the loss window, in percent.
    public var lossPercent: Double
    /// loss_weight × loss% + rtt_weight × RTT ms + priority (lower is better); nil before the first answer.
    public var score: Double?
    /// Bytes a second through the link over the last measured second.
    public var bytesPerSecond: Double
    /// Unanswered heartbeats in a row.
    public var consecutiveMisses: Int
    /// Heartbeats sent, answered in time, counted lost, and answered after being counted lost.
    public var heartbeatsSent: Int, answered: Int, lost: Int, lateAnswers: Int
}
