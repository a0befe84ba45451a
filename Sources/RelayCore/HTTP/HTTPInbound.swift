import RelayIO

/// The bytes read from one side of an HTTP exchange and not yet used: the buffer heads are parsed in and bodies
/// pass through. It starts small (an idle kept-alive connection holds only that), doubles while a head needs
/// more room or reads keep filling it (a body streaming), up to `maximumCapacity`, and goes back to its first
/// size when it is empty between requests.
final class HTTPInbound {
    private var storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// The last read filled all the room there was: more is coming, so the next one gets a larger buffer.
    private var lastReadFilled = false
    let initialCapacity: Int
    let maximumCapacity: Int

    /// The size a buffer starts at.
    static let defaultInitialCapacity = 4 * 1024

    init(initialCapacity: Int = HTTPInbound.defaultInitialCapacity, maximumCapacity: Int) {
        precondition(initialCapacity > 0 && initialCapacity <= maximumCapacity, "bad buffer capacities")
        self.initialCapacity = initialCapacity
        self.maximumCapacity = maximumCapacity
        storage = .allocate(byteCount: initialCapacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The size of the buffer now.
    var capacity: Int { storage.count }

    /// Bytes read and not consumed.
    var count: Int { end - start }

    /// Whether the buffer holds as much as it ever can: a head that does not fit is too large.
    var isFull: Bool { start == 0 && end == storage.count && storage.count >= maximumCapacity }

    /// The bytes read and not consumed; valid until the next `consume`, `fill` or `shrink`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    /// Forgets the first `count` bytes.
    func consume(_ count: Int) {
        precondition(count <= self.count, "consumed \(count) of \(self.count) bytes")
        start += count
        if start == end { start = 0; end = 0 }
    }

    /// Goes back to the first size when empty (between requests): what a quiet connection keeps.
    func shrink() {
        guard count == 0, storage.count > initialCapacity else { return }
        storage.deallocate()
        storage = .allocate(byteCount: initialCapacity, alignment: 16)
        start = 0
        end = 0
        lastReadFilled = false
    }

    /// Reads what `connection` has (waiting until `deadline` if nothing is there), after the bytes held; returns
    /// the bytes read, 0 at the end of stream. Throws `IOError.timedOut` at the deadline.
    ///
    /// `expectingNothingYet`: the peer cannot have sent anything yet (a response right after its request, the
    /// next request right after a response), so wait for a readiness edge first instead of spending a `recv` on
    /// `EAGAIN`; an edge that came before the wait is latched, so nothing is missed.
    nonisolated(nonsending) func fill(from connection: TCPConnection, deadline: UInt64?,
                                      expectingNothingYet: Bool = false) async throws -> Int {
        makeRoom()
        precondition(end < storage.count, "fill on a full buffer")
        let room = UnsafeMutableRawBufferPointer(rebasing: storage[end...])
        if expectingNothingYet { try await connection.waitReadable(deadline: deadline) }
        let read = try await connection.read(into: room, deadline: deadline)
        lastReadFilled = read == room.count
        end += read
        return read
    }

    /// Moves held bytes to the front when the end is reached, and doubles the buffer (up to its maximum) when
    /// the held bytes fill it or the last read filled all the room.
    private func makeRoom() {
        if end == storage.count, start > 0 {
            let held = end - start
            storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: held)
            start = 0
            end = held
        }
        guard end == storage.count || lastReadFilled, storage.count < maximumCapacity else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(maximumCapacity, storage.count * 2),
                                                           alignment: 16)
        let held = end - start
        if held > 0 { larger.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: held) }
        storage.deallocate()
        storage = larger
        start = 0
        end = held
    }
}
