/// The outcomes of a link's last heartbeats, answered in time or lost: a ring of at most `capacity` entries.
struct LossWindow: Sendable, Equatable {
    /// The ring; `true` is a lost heartbeat.
    private var outcomes: [Bool]
    /// Where the next outcome goes.
    private var next = 0
    /// How many entries hold an outcome (up to the capacity).
    private(set) var count = 0
    /// How many of them are losses.
    private(set) var lost = 0

    /// An empty window of `capacity` outcomes (at least one).
    init(capacity: Int) {
        outcomes = Array(repeating: false, count: max(1, capacity))
    }

    /// Records one outcome, forgetting the oldest when full.
    mutating func record(lost isLost: Bool) {
        if count == outcomes.count {
            if outcomes[next] { lost -= 1 }
        } else {
            count += 1
        }
        outcomes[next] = isLost
        if isLost { lost += 1 }
        next = (next + 1) % outcomes.count
    }

    /// The share lost, in percent; 0 before any outcome.
    var lossPercent: Double {
        count == 0 ? 0 : Double(lost) * 100 / Double(count)
    }
}
