import Synchronization

/// Counters of a UDP listener, bumped on the hot path with relaxed atomics.
public final class UDPCounters: Sendable {
    /// Datagrams received from clients and relayed to a server.
    public let datagramsUp = Atomic<Int>(0)
    /// Datagrams received from servers and relayed to their client.
    public let datagramsDown = Atomic<Int>(0)
    /// Bytes of the datagrams relayed from clients to servers.
    public let bytesUp = Atomic<Int>(0)
    /// Bytes of the datagrams relayed from servers to clients.
    public let bytesDown = Atomic<Int>(0)
    /// Flows opened.
    public let flowsOpened = Atomic<Int>(0)
    /// Flows moved to another server after the first answered ICMP unreachable.
    public let flowsMoved = Atomic<Int>(0)
    /// Datagrams dropped because `max_flows` flows were open.
    public let droppedFlowLimit = Atomic<Int>(0)
    /// Datagrams dropped because they were larger than the receive buffer (never silently cut).
    public let droppedTruncated = Atomic<Int>(0)
    /// Datagrams dropped because no server of the group could take them.
    public let droppedNoServer = Atomic<Int>(0)
    /// Datagrams the kernel would not send (buffer full, unreachable), counted rather than waited on.
    public let droppedSendFailed = Atomic<Int>(0)
    /// Datagrams dropped because relayd itself ran short of descriptors, socket memory or local ports
    /// opening their flow's socket: the server is not to blame, so this is not `droppedNoServer`.
    public let droppedLocalResources = Atomic<Int>(0)
    /// Datagrams dropped by the listener's `rate_limit`: over `packets_per_ip`, or opening a flow over
    /// `per_ip` or `total`.
    public let droppedRateLimited = Atomic<Int>(0)

    /// Datagrams relayed to servers in segmented sends (`UDP_SEGMENT`, `io.udp_segmentation`): runs of one
    /// flow's datagrams that went through the kernel's send path once each.
    public let segmentedUp = Atomic<Int>(0)
    /// Datagrams relayed to clients in segmented sends.
    public let segmentedDown = Atomic<Int>(0)
    /// Segmented sends the path refused (no segmentation offload, a segment over the route's MTU): that flow's
    /// direction sends its runs with `sendmmsg` from then on.
    public let segmentationRefused = Atomic<Int>(0)

    public init() {}
}
