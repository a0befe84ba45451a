/// A backend group's `pool` section: connections opened to its active servers ahead of time, so a client's
/// first byte does not wait for a backend handshake.
///
/// A pooled connection serves one client connection and is then closed like any other (a TCP relay cannot
/// hand a used stream to another client); the pool opens a replacement at once, off the client's path.
public struct PoolConfig: Sendable, Equatable {
    /// How the number of warm connections per server is chosen.
    public enum Strategy: String, Sendable, CaseIterable {
        /// No pool: every client connection dials its server.
        case none
        /// `size_per_remote` warm connections per active server.
        case `static`
        /// Between `min_size` and `max_size` warm connections per active server, following the recent peak of
        /// connections in use: target = peak × (1 + `target_buffer_ratio`), moved toward by at most
        /// `scale_up_increment` / `scale_down_increment` per `interval`.
        case dynamic
    }

    /// `strategy`, default `none`.
    public var strategy: Strategy
    /// `static.size_per_remote`, default 50: warm connections per active server.
    public var sizePerRemote: Int
    /// `dynamic.min_size`, default 20: the fewest warm connections per active server.
    public var minSize: Int
    /// `dynamic.max_size`, default 500: the most warm connections per active server.
    public var maxSize: Int
    /// `dynamic.scaling.interval`, default 1s: how often the size is adjusted.
    public var scalingInterval: Duration
    /// `dynamic.scaling.target_buffer_ratio`, default 0.2: spare capacity above the recent peak.
    public var targetBufferRatio: Double
    /// `dynamic.scaling.scale_up_increment`, default 10: most connections added to the size per interval.
    public var scaleUpIncrement: Int
    /// `dynamic.scaling.scale_down_increment`, default 5: most connections removed from the size per interval.
    public var scaleDownIncrement: Int
    /// `dial_timeout`, default 1s: how long the pool waits for one of its connections to open.
    public var dialTimeout: Duration
    /// `idle_timeout`, default 10m: a warm connection unused this long is closed (and replaced while the pool
    /// needs it), so servers that drop idle connections do not leave stale ones behind.
    public var idleTimeout: Duration
    /// `drain_timeout`, default 30s: a server that leaves the active set keeps its warm connections this
    /// long (in case it comes straight back), then they are closed. "0s" closes them at once.
    public var drainTimeout: Duration

    public init(strategy: Strategy = .none, sizePerRemote: Int = 50, minSize: Int = 20, maxSize: Int = 500,
                scalingInterval: Duration = .seconds(1), targetBufferRatio: Double = 0.2, scaleUpIncrement: Int = 10,
                scaleDownIncrement: Int = 5, dialTimeout: Duration = .seconds(1), idleTimeout: Duration = .seconds(600),
                drainTimeout: Duration = .seconds(30)) {
        self.strategy = strategy
        self.sizePerRemote = sizePerRemote
        self.minSize = minSize
        self.maxSize = maxSize
        self.scalingInterval = scalingInterval
        self.targetBufferRatio = targetBufferRatio
        self.scaleUpIncrement = scaleUpIncrement
        self.scaleDownIncrement = scaleDownIncrement
        self.dialTimeout = dialTimeout
        self.idleTimeout = idleTimeout
        self.drainTimeout = drainTimeout
    }

    /// Whether connections are pooled at all.
    public var isEnabled: Bool { strategy != .none }

    static func read(from node: ConfigReader) -> PoolConfig? {
        node.object { fields in
            var config = PoolConfig()
            fields.read("strategy", into: &config.strategy) { $0.choice(Strategy.self) }
            let defaultSize = config.sizePerRemote
            fields.read("static", into: &config.sizePerRemote) { value in
                value.object { inner in
                    var size = defaultSize
                    inner.read("size_per_remote", into: &size) { $0.integer(in: 1...10_000) }
                    return inner.isValid ? size : nil
                }
            }
            let defaults = config
            fields.read("dynamic", into: &config) { value in readDynamic(value, defaults: defaults) }
            fields.read("dial_timeout", into: &config.dialTimeout) { $0.duration(allowZero: false) }
            fields.read("idle_timeout", into: &config.idleTimeout) { $0.duration(allowZero: false) }
            fields.read("drain_timeout", into: &config.drainTimeout) { $0.duration(allowZero: true) }
            return fields.isValid ? config : nil
        }
    }

    /// Reads `dynamic: { min_size, max_size, scaling: { ... } }` on top of `defaults`.
    private static func readDynamic(_ value: ConfigReader, defaults: PoolConfig) -> PoolConfig? {
        value.object { inner in
            var config = defaults
            inner.read("min_size", into: &config.minSize) { $0.integer(in: 0...10_000) }
            inner.read("max_size", into: &config.maxSize) { $0.integer(in: 1...10_000) }
            let base = config
            inner.read("scaling", into: &config) { scaling in
                scaling.object { knobs in
                    var tuned = base
                    knobs.read("interval", into: &tuned.scalingInterval) { $0.duration(allowZero: false) }
                    knobs.read("target_buffer_ratio", into: &tuned.targetBufferRatio) { $0.number(atLeast: 0, atMost: 10) }
                    knobs.read("scale_up_increment", into: &tuned.scaleUpIncrement) { $0.integer(in: 1...10_000) }
                    knobs.read("scale_down_increment", into: &tuned.scaleDownIncrement) { $0.integer(in: 1...10_000) }
                    return knobs.isValid ? tuned : nil
                }
            }
            if config.minSize > config.maxSize, !inner.failedKeys.contains("min_size"),
               !inner.failedKeys.contains("max_size") {
                inner.reject("min_size", "is \(config.minSize), more than max_size (\(config.maxSize)); "
                             + "make min_size at most max_size")
            }
            return inner.isValid ? config : nil
        }
    }
}
