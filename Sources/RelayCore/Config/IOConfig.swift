/// The `io` section: how the daemon uses threads and memory to move bytes.
public struct IOConfig: Sendable, Equatable {
    /// How many event loops (threads) serve connections (`loops`, default 0 = one per CPU core, at most 256).
    /// Fewer than the cores leaves room for other processes; more than the cores only adds switching.
    public var loops: Int
    /// Bytes of buffer per direction of each relayed connection (`buffer_size`, default 256KiB, from 4KiB to
    /// 16MiB). Larger buffers move bulk data with fewer system calls; smaller ones fit more connections in memory.
    public var bufferSize: Int
    /// Whether TCP relaying moves data through a kernel pipe with `splice(2)` instead of copying it through user
    /// space (`splice`, default false): less CPU for bulk traffic, but two more descriptors per connection.
    public var splice: Bool
    /// Whether a UDP listener sends a run of one flow's datagrams (several of one client in one receive, or
    /// of one server's replies) as one segmented send, `UDP_SEGMENT` (`udp_segmentation`, default true): the
    /// kernel's send path once per run instead of once per datagram, and the same datagrams arrive. A path
    /// that refuses it (a segment over the route's MTU, no offload) falls back per flow, by itself.
    public var udpSegmentation: Bool

    public init(loops: Int = 0, bufferSize: Int = 262_144, splice: Bool = false, udpSegmentation: Bool = true) {
        self.loops = loops
        self.bufferSize = bufferSize
        self.splice = splice
        self.udpSegmentation = udpSegmentation
    }

    /// Reads an `io` object, with defaults for absent keys.
    static func read(from node: ConfigReader) -> IOConfig? {
        node.object { fields in
            var config = IOConfig()
            fields.read("loops", into: &config.loops) { $0.integer(in: 0...256) }
            fields.read("buffer_size", into: &config.bufferSize) { $0.byteSize(in: 4096...16_777_216) }
            fields.read("splice", into: &config.splice) { $0.bool() }
            fields.read("udp_segmentation", into: &config.udpSegmentation) { $0.bool() }
            return fields.isValid ? config : nil
        }
    }
}
