import RelayProtocol

/// One link as the LinkMonitor measures it: RTT estimator, loss window, throughput meter, the heartbeats still
/// waiting for an answer, and its health. `LinkMonitorState` owns an array of these and all the rules.
struct MonitoredLink: Sendable, Equatable {
    /// A heartbeat sent and not yet answered.
    struct Outstanding: Sendable, Equatable {
        /// When it was sent: its timestamp, which the answer echoes.
        var sentAt: UInt64
        /// When it counts as lost if unanswered.
        var deadline: UInt64
        /// Whether it has been counted as lost already (an answer after that still measures the RTT).
        var countedLost: Bool
    }

    /// Name and priority.
    let spec: MultipathLinkSpec
    /// Probing until the first answer, down after `max_consecutive_fail` misses in a row.
    var health: MultipathLinkHealth = .probing
    /// Smoothed RTT in nanoseconds (RFC 6298: 7/8 old + 1/8 sample); nil before the first answer.
    var smoothedRTT: Double?
    /// RTT variation in nanoseconds (RFC 6298: 3/4 old + 1/4 |smoothed − sample|).
    var rttVariance: Double = 0
    /// The last heartbeats' outcomes.
    var losses: LossWindow
    /// Unanswered heartbeats in a row.
    var consecutiveMisses = 0
    /// Heartbeats waiting for an answer, oldest first; at most heartbeat_timeout / heartbeat_interval + 1.
    var outstanding: [Outstanding] = []
    /// When the next heartbeat is due.
    var nextHeartbeatAt: UInt64
    /// Bytes a second through the link over the last measured second; 0 before one has passed.
    var bytesPerSecond: Double = 0
    /// When the current throughput measurement started; nil before the first byte count.
    var meterStartTime: UInt64?
    /// The link's cumulative byte count then.
    var meterStartBytes: UInt64 = 0
    /// Counters for metrics.
    var heartbeatsSent = 0, answered = 0, lost = 0, lateAnswers = 0

    /// A link never measured, whose first heartbeat is due at `now`.
    init(spec: MultipathLinkSpec, lossWindow: Int, now: UInt64) {
        self.spec = spec
        losses = LossWindow(capacity: lossWindow)
        nextHeartbeatAt = now
    }

    /// Takes one RTT sample (RFC 6298 §2: the first sets smoothed = r and variance = r / 2).
    mutating func sampleRTT(_ sample: Double) {
        if let smoothed = smoothedRTT {
            rttVariance = 0.75 * rttVariance + 0.25 * abs(smoothed - sample)
            smoothedRTT = 0.875 * smoothed + 0.125 * sample
        } else {
            smoothedRTT = sample
            rttVariance = sample / 2
        }
    }

    /// How long a heartbeat sent now may wait before it counts as lost: the RFC 6298 retransmission timeout
    /// (smoothed + 4 × variance), at least one heartbeat interval (so a miss is never declared before the next
    /// heartbeat is due) and at most `timeout`; `timeout` itself before the first answer.
    func lossDeadline(interval: UInt64, timeout: UInt64) -> UInt64 {
        guard let smoothed = smoothedRTT else { return timeout }
        let rto = smoothed + 4 * rttVariance
        guard rto.isFinite, rto < Double(timeout) else { return timeout }
        return max(interval, UInt64(rto.rounded(.up)))
    }

    /// Forgets every measurement (the address changed): probing again, first heartbeat due at `now`.
    mutating func resetMeasurements(lossWindow: Int, now: UInt64) {
        health = .probing
        smoothedRTT = nil
        rttVariance = 0
        losses = LossWindow(capacity: lossWindow)
        consecutiveMisses = 0
        outstanding = []
        nextHeartbeatAt = now
    }
}
