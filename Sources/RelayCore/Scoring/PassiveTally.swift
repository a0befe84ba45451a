import RelayIO
import Synchronization

/// The soft real-traffic samples of one server, summed where they happen: connect times, times to the first
/// byte, answers good and bad. The group's sample consumer takes the sums every 100 ms and gives them to the
/// Scoreboard as one batch per server.
///
/// Queued one by one, these samples cost a lock and a queue entry each on the forwarding path, and the Scoreboard
/// then walked thousands of them per tick on a thread of its own, which on a small machine took a core away from
/// the event loops in bursts. Summed, a sample costs two relaxed atomic adds, and a tick costs a few loads per
/// server. Hard failures (`connectFailed`) still go through the group's queue: they carry an error and mark the
/// server down at once.
public final class PassiveTally: Sendable {
    /// What was summed since the last `take()`.
    public struct Sums: Sendable, Equatable {
        public var connected = 0
        public var connectNanos: UInt64 = 0
        public var firstBytes = 0
        public var firstByteNanos: UInt64 = 0
        public var answeredWell = 0
        public var answeredBadly = 0

        public init() {}

        public var isEmpty: Bool { connected == 0 && firstBytes == 0 && answeredWell == 0 && answeredBadly == 0 }
    }

    private let connected = Atomic<Int>(0)
    private let connectNanos = Atomic<UInt64>(0)
    private let firstBytes = Atomic<Int>(0)
    private let firstByteNanos = Atomic<UInt64>(0)
    private let answeredWell = Atomic<Int>(0)
    private let answeredBadly = Atomic<Int>(0)

    public init() {}

    /// Sums a soft sample; false (and nothing summed) for a hard failure.
    ///
    /// A time is added before its count and `take` reads counts before times, so a batch never counts a sample
    /// whose time it lacks (a time may come one batch before its count, which moves a mean by a sample's worth).
    @discardableResult
    public func add(_ sample: PassiveSample) -> Bool {
        switch sample {
        case let .connected(time):
            connectNanos.wrappingAdd(time.nanosecondsClamped, ordering: .relaxed)
            connected.add(1, ordering: .releasing)
        case let .firstByte(time):
            firstByteNanos.wrappingAdd(time.nanosecondsClamped, ordering: .relaxed)
            firstBytes.add(1, ordering: .releasing)
        case let .answered(success, firstByte):
            if let firstByte {
                firstByteNanos.wrappingAdd(firstByte.nanosecondsClamped, ordering: .relaxed)
                firstBytes.add(1, ordering: .releasing)
            }
            if success { answeredWell.add(1, ordering: .relaxed) } else { answeredBadly.add(1, ordering: .relaxed) }
        case .connectFailed:
            return false
        }
        return true
    }

    /// Takes what was summed since the last call.
    public func take() -> Sums {
        var sums = Sums()
        sums.connected = connected.exchange(0, ordering: .acquiring)
        sums.connectNanos = connectNanos.exchange(0, ordering: .relaxed)
        sums.firstBytes = firstBytes.exchange(0, ordering: .acquiring)
        sums.firstByteNanos = firstByteNanos.exchange(0, ordering: .relaxed)
        sums.answeredWell = answeredWell.exchange(0, ordering: .relaxed)
        sums.answeredBadly = answeredBadly.exchange(0, ordering: .relaxed)
        return sums
    }
}
