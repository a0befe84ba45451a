/// A session's receive side for messages: reassembles fragments, puts messages back in order, and holds them
/// until the application takes them, within a window of messages and a budget of bytes.
///
/// **Order.** Messages are numbered from 1. `nextSequence` is the first not yet complete in order; a message
/// completes into `ready` only when every earlier one has. Fragments of later messages wait, up to the receive
/// limit: `receiveLimit = (first message not yet taken) + window`. The sender learns the limit from every
/// header and sends nothing at or beyond it, so the window bounds messages held, and an application that stops
/// taking messages stops the sender (backpressure without unbounded queues).
///
/// **Memory.** Every fragment held costs its bytes plus `fragmentOverhead`; a fragment that would take
/// `bufferedBytes` past `maxBufferedBytes` is refused (`overBudget`) and must not be acknowledged, so the sender
/// sends it again later. One exception prevents a deadlock: while no message waits in `ready`, fragments of
/// `nextSequence` itself are always taken, since nothing else can free room for them. Memory is thus bounded by
/// `maxBufferedBytes` plus one largest message.
public struct Reassembler: Sendable {
    /// What happened to a fragment.
    public enum Verdict: Sendable, Equatable {
        /// Held or completed a message; `ahead` when it belongs to a message after a gap (out of order).
        case accepted(ahead: Bool)
        /// Already held, or its message was already complete: acknowledge it again, keep nothing.
        case duplicate
        /// At or beyond the receive limit: the peer ignored the window.
        case beyondLimit
        /// No room within the byte budget now: drop it unacknowledged.
        case overBudget
        /// Contradicts what earlier fragments said (another count, a total over 65,507 bytes).
        case inconsistent
    }

    /// The knobs.
    public struct Configuration: Sendable, Equatable {
        /// Messages after the first not yet taken that the peer may send; at least the protocol's initial 16.
        public var window: UInt32
        /// Bytes held (fragments, complete messages waiting for earlier ones, messages not yet taken) beyond
        /// which fragments are refused.
        public var maxBufferedBytes: Int

        /// A window of 256 messages and a budget of 1 MiB.
        public init(window: UInt32 = 256, maxBufferedBytes: Int = 1 << 20) {
            self.window = max(window, ReliableWire.initialReceiveWindow)
            self.maxBufferedBytes = max(maxBufferedBytes, 0)
        }
    }

    /// What each held fragment costs beyond its bytes: an estimate of its bookkeeping, so a peer cannot hold
    /// much memory with many empty fragments.
    public static let fragmentOverhead = 64

    /// One message being put together.
    private struct Partial: Sendable {
        /// Fragments the message has.
        let count: UInt16
        /// Fragments received, by index.
        var fragments: [UInt16: [UInt8]] = [:]
        /// Their bytes together.
        var byteCount = 0
        /// The message, once every fragment is in.
        var complete: [UInt8]?
    }

    /// The knobs.
    public let configuration: Configuration
    /// The first message not yet complete in order.
    public private(set) var nextSequence: UInt32 = 1
    /// What is held, in the units of `maxBufferedBytes`.
    public private(set) var bufferedBytes = 0
    /// Messages after `nextSequence`'s gap (and `nextSequence` itself) being put together or waiting.
    private var partials: [UInt32: Partial] = [:]
    /// Messages complete in order, waiting for the application.
    private var ready = ReliableFIFO<[UInt8]>()

    /// An empty reassembler expecting message 1.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Messages complete in order and not yet taken.
    public var readyCount: Int { ready.count }

    /// Messages being put together or complete but waiting for an earlier one.
    public var pendingCount: Int { partials.count }

    /// The peer may send messages numbered below this.
    public var receiveLimit: UInt32 {
        let firstUntaken = UInt64(nextSequence) - UInt64(ready.count)
        return UInt32(clamping: firstUntaken + UInt64(configuration.window))
    }

    /// Takes in fragment `index` of `count` of message `sequence`.
    public mutating func insert(sequence: UInt32, index: UInt16, count: UInt16, bytes: [UInt8]) -> Verdict {
        guard sequence != 0, count >= 1, index < count, Int(count) <= ReliableWire.maxFragments else {
            return .inconsistent
        }
        if sequence < nextSequence { return .duplicate }
        if sequence >= receiveLimit { return .beyondLimit }
        var partial = partials[sequence] ?? Partial(count: count)
        guard partial.count == count else { return .inconsistent }
        if partial.complete != nil || partial.fragments[index] != nil { return .duplicate }
        guard partial.byteCount + bytes.count <= ReliableWire.maxMessageSize else { return .inconsistent }
        let cost = bytes.count + Self.fragmentOverhead
        let exempt = sequence == nextSequence && ready.isEmpty
        if !exempt, bufferedBytes + cost > configuration.maxBufferedBytes { return .overBudget }

        let ahead = sequence > nextSequence
        bufferedBytes += cost
        partial.fragments[index] = bytes
        partial.byteCount += bytes.count
        if partial.fragments.count == Int(count) {
            var message: [UInt8] = []
            message.reserveCapacity(partial.byteCount)
            for fragment in 0..<count { message += partial.fragments[fragment] ?? [] }
            partial.fragments = [:]
            // The fragments' overheads go; the message keeps one.
            bufferedBytes -= Int(count - 1) * Self.fragmentOverhead
            partial.complete = message
        }
        partials[sequence] = partial
        releaseInOrder()
        return .accepted(ahead: ahead)
    }

    /// The next message in order, if one is complete; taking it frees its bytes and moves the receive limit.
    public mutating func take() -> [UInt8]? {
        guard let message = ready.popFirst() else { return nil }
        bufferedBytes -= message.count + Self.fragmentOverhead
        return message
    }

    /// Moves complete messages at the head of the order into `ready`.
    private mutating func releaseInOrder() {
        while let message = partials[nextSequence]?.complete {
            partials[nextSequence] = nil
            ready.append(message)
            nextSequence += 1
        }
    }
}
