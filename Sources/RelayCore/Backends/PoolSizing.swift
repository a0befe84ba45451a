/// How many warm connections one server's pool keeps: the rules of `static` and `dynamic`, as a pure state
/// machine the pool drives with `observe` (each acquisition) and `tick` (each scaling interval).
///
/// The size counts warm connections (open, unused): every connection a client takes is replaced at once, so
/// the next clients find one ready whatever the load. `static` keeps `size_per_remote`. `dynamic` starts at
/// `min_size` and every interval moves toward `peak × (1 + target_buffer_ratio)` (clamped to
/// `min_size...max_size`) by at most `scale_up_increment` up or `scale_down_increment` down, where the peak
/// is the most connections in use at once over the last `peakWindow` intervals: enough warm connections for
/// the busiest moment of the recent past to start over at once. (The seed kept the peak of the last 100
/// acquisitions, so with no traffic the peak never fell and the pool never shrank; a window of intervals
/// decays even when nothing happens.)
public struct PoolSizing: Sendable, Equatable {
    /// Intervals the peak is remembered for.
    public static let peakWindow = 10

    public let config: PoolConfig
    /// The current size: the warm connections the pool aims for.
    public private(set) var size: Int
    /// Highest concurrency seen in the current interval.
    private var currentPeak = 0
    /// Highest concurrency of each of the last `peakWindow` intervals, oldest first.
    private var recentPeaks: [Int] = []
    /// Times the size grew and shrank.
    public private(set) var scaleUps = 0
    public private(set) var scaleDowns = 0

    public init(config: PoolConfig) {
        self.config = config
        size = config.strategy == .static ? config.sizePerRemote : config.minSize
    }

    /// The highest concurrency remembered.
    public var peak: Int { max(currentPeak, recentPeaks.max() ?? 0) }

    /// Records the concurrency (connections in use) seen at one acquisition or sample.
    public mutating func observe(concurrency: Int) {
        currentPeak = max(currentPeak, concurrency)
    }

    /// What `dynamic` aims for with the current peak.
    public var target: Int {
        guard config.strategy == .dynamic else { return size }
        let wanted = (Double(peak) * (1 + config.targetBufferRatio)).rounded(.up)
        return min(config.maxSize, max(config.minSize, Int(min(wanted, Double(Int32.max)))))
    }

    /// Ends one scaling interval: moves the size one step toward the target. Returns the change (0 if none).
    @discardableResult
    public mutating func tick() -> Int {
        guard config.strategy == .dynamic else { return 0 }
        let goal = target
        recentPeaks.append(currentPeak)
        if recentPeaks.count > Self.peakWindow { recentPeaks.removeFirst(recentPeaks.count - Self.peakWindow) }
        currentPeak = 0
        if goal > size {
            let step = min(config.scaleUpIncrement, goal - size)
            size += step
            scaleUps += 1
            return step
        }
        if goal < size {
            let step = min(config.scaleDownIncrement, size - goal)
            size -= step
            scaleDowns += 1
            return -step
        }
        return 0
    }
}
