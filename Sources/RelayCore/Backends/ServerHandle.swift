import RelayIO
import Synchronization

/// One backend server as the hot path sees it: its address and weight, and the counters that
/// forwarding updates with atomics (never awaiting an actor).
///
/// Handles are created once per server and shared by the Scoreboard, the Selector, the balancers and
/// every connection to that server; a server that disappears from the config or DNS gets no new
/// connections but its handle lives until the last one ends.
public final class ServerHandle: Sendable, Hashable, CustomStringConvertible {
    /// Stable identity for logs, metrics and tables: `group/address` (`web/127.0.0.1:9001`).
    public let id: String
    /// The backend group the server belongs to.
    public let group: String
    /// Where to connect.
    public let address: SocketAddress
    /// Relative share of traffic for weighted balancers (≥ 1).
    public let weight: Int
    /// Connections open to this server right now (least_connections, p2c_ewma).
    public let inFlight = Atomic<Int>(0)
    /// Latency estimate for load-aware balancers, in nanoseconds (0 = no sample yet): the larger of the
    /// probe latency EWMA and the passive time-to-first-byte EWMA, published by the Scoreboard.
    public let latencyEstimateNanos = Atomic<UInt64>(0)
    /// Connections sent to this server since start.
    public let connectionsTotal = Atomic<Int>(0)
    /// Connection attempts to this server that failed (refused, timed out).
    public let connectFailures = Atomic<Int>(0)
    /// Put in maintenance by an operator (admin API `drain`, like HAProxy's `set server state drain`): it
    /// gets no new connections or flows, those open go on, and it is still probed. Set through
    /// `BackendGroup.setDrained`, which keeps the group's count of drained servers.
    public let drained = Atomic<Bool>(false)
    /// Soft real-traffic samples summed since the group's consumer last took them.
    public let passiveTally = PassiveTally()

    public init(group: String, address: SocketAddress, weight: Int = 1) {
        self.group = group
        self.address = address
        self.weight = max(1, weight)
        self.id = "\(group)/\(address)"
    }

    public var description: String { id }

    public static func == (lhs: ServerHandle, rhs: ServerHandle) -> Bool { lhs === rhs }

    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
