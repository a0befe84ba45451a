/// A token bucket per key (a client IP) under one `RateLimit`, with a fixed cap on the keys tracked.
///
/// Pure and clock-free: every call is given `now`, so the rules are tested synchronously with made-up times.
///
/// **Memory is bounded whatever the traffic.** A key without a bucket is a key with a full one, so buckets
/// are created on a key's first admission and forgotten once full again. At most `maxKeys` are tracked: a new
/// key when the table is full evicts the least recently used one. Spoofed sources therefore cost a flood at
/// most `maxKeys` entries (about 120 bytes each), and each eviction is O(1). Swift's `Dictionary` hashes with
/// a per-process random seed, so the sources cannot be chosen to collide either.
///
/// **Eviction cannot free a flooding key.** Every attempt, refused ones included, makes its key the most
/// recently used, so a key that keeps sending stays at the far end from eviction and keeps its empty bucket,
/// however many other keys pass through. What eviction gives up is the partly used bucket of a key that has
/// gone quiet: that key starts again full, which is lenient to it and to no one else.
///
/// **Idle buckets go first.** `sweep` forgets, from the least recently used end, every bucket that has filled
/// up again: they hold nothing a fresh bucket would not, so forgetting them changes no decision.
///
/// The keys are kept in recency order by a doubly linked list threaded through an array of slots (indices,
/// not references), so a lookup, a move to the front and an eviction each cost O(1) and no allocation once
/// the arrays have grown (to `maxKeys + 1` slots: a new key is added before the oldest makes room).
public struct RateLimitTable<Key: Hashable & Sendable>: Sendable {
    /// The rule every bucket follows.
    public private(set) var limit: RateLimit
    /// The most keys tracked at once.
    public let maxKeys: Int
    /// Keys evicted to make room for a new key while their bucket was still refilling (they start again full).
    public private(set) var evictedEarly = 0
    /// The slot of each tracked key.
    private var index: [Key: Int32] = [:]
    /// Tracked keys and their buckets; slots listed in `free` hold stale entries awaiting reuse.
    private var slots: [Slot] = []
    /// Slots free for reuse.
    private var free: [Int32] = []
    /// The most recently used slot (-1: none).
    private var newest: Int32 = -1
    /// The least recently used slot (-1: none): the next to evict.
    private var oldest: Int32 = -1

    /// One tracked key, linked into the recency list.
    private struct Slot: Sendable {
        var key: Key
        var bucket: TokenBucket
        /// The next more recently used slot (-1: this is the newest).
        var newer: Int32
        /// The next less recently used slot (-1: this is the oldest).
        var older: Int32
    }

    public init(limit: RateLimit, maxKeys: Int) {
        precondition(maxKeys >= 1 && maxKeys <= Int(Int32.max), "maxKeys \(maxKeys) out of range")
        self.limit = limit
        self.maxKeys = maxKeys
    }

    /// Keys tracked now.
    public var count: Int { index.count }

    /// Takes a token from `key`'s bucket at `now`; false when it is empty. A key seen for the first time gets a
    /// full bucket (evicting the least recently used key when `maxKeys` are tracked), so its first attempt passes.
    public mutating func take(_ key: Key, now: UInt64) -> Bool {
        // One hash of `key` both finds its slot and, for a new key, records the slot it is about to get: the
        // hash is most of the cost of a check.
        let fresh = free.last ?? Int32(slots.count)
        var isNew = false
        let slot = Self.claim(&index[key, default: -1], fresh: fresh, isNew: &isNew)
        guard isNew else {
            let allowed = slots[Int(slot)].bucket.take(limit, now: now)
            touch(slot)
            return allowed
        }
        var bucket = TokenBucket(full: limit, now: now)
        _ = bucket.take(limit, now: now)
        let entry = Slot(key: key, bucket: bucket, newer: -1, older: newest)
        if slot == Int32(slots.count) {
            slots.append(entry)
        } else {
            free.removeLast()
            slots[Int(slot)] = entry
        }
        if newest >= 0 { slots[Int(newest)].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
        // The table now holds one key too many: the least recently used goes (never the new key, the newest).
        if index.count > maxKeys {
            if !slots[Int(oldest)].bucket.isFull(limit, now: now) { evictedEarly += 1 }
            remove(oldest)
        }
        return true
    }

    /// Gives `key` back a token taken for an admission another limit refused.
    public mutating func refund(_ key: Key) {
        guard let slot = index[key] else { return }
        slots[Int(slot)].bucket.refund(limit)
    }

    /// Whole tokens `key` has at `now` (a key not tracked has a full bucket).
    public func tokens(of key: Key, now: UInt64) -> Int {
        guard let slot = index[key] else { return limit.burst }
        return slots[Int(slot)].bucket.tokens(limit, now: now)
    }

    /// Whether `key` has a bucket now.
    public func tracks(_ key: Key) -> Bool {
        index[key] != nil
    }

    /// The tracked keys, least recently used first (for tests and operators).
    public var keysOldestFirst: [Key] {
        var keys: [Key] = []
        keys.reserveCapacity(count)
        var slot = oldest
        while slot >= 0 {
            keys.append(slots[Int(slot)].key)
            slot = slots[Int(slot)].newer
        }
        return keys
    }

    /// Forgets, from the least recently used end, up to `limit` buckets that are full at `now`, stopping at the
    /// first that is not. Returns how many it forgot. Once the table is empty its arrays are released, so the
    /// memory a flood of sources made it take is given back.
    public mutating func sweep(now: UInt64, limit maxRemovals: Int = .max) -> Int {
        var removed = 0
        while removed < maxRemovals, oldest >= 0, slots[Int(oldest)].bucket.isFull(limit, now: now) {
            remove(oldest)
            removed += 1
        }
        if index.isEmpty, !slots.isEmpty {
            index = [:]
            slots = []
            free = []
        }
        return removed
    }

    /// Puts every bucket under a new rule (config reload), keeping each key's tokens (at most the new burst).
    public mutating func setLimit(_ newLimit: RateLimit, now: UInt64) {
        guard newLimit != limit else { return }
        var slot = oldest
        while slot >= 0 {
            slots[Int(slot)].bucket.rescale(from: limit, to: newLimit, now: now)
            slot = slots[Int(slot)].newer
        }
        limit = newLimit
    }

    // MARK: - The recency list

    /// The slot in `entry` (a dictionary value, reached through one hash of its key): a key's own, or `fresh`
    /// for a key not yet tracked (`entry` is -1), which `isNew` then says.
    private static func claim(_ entry: inout Int32, fresh: Int32, isNew: inout Bool) -> Int32 {
        if entry < 0 {
            entry = fresh
            isNew = true
        }
        return entry
    }

    /// Makes `slot` the most recently used.
    private mutating func touch(_ slot: Int32) {
        guard slot != newest else { return }
        unlink(slot)
        slots[Int(slot)].older = newest
        slots[Int(slot)].newer = -1
        slots[Int(newest)].newer = slot
        newest = slot
    }

    /// Forgets the key in `slot` and frees the slot.
    private mutating func remove(_ slot: Int32) {
        unlink(slot)
        index[slots[Int(slot)].key] = nil
        free.append(slot)
    }

    /// Takes `slot` out of the recency list, joining its neighbours.
    private mutating func unlink(_ slot: Int32) {
        let (newer, older) = (slots[Int(slot)].newer, slots[Int(slot)].older)
        if newer >= 0 { slots[Int(newer)].older = older } else { newest = older }
        if older >= 0 { slots[Int(older)].newer = newer } else { oldest = newer }
    }
}
