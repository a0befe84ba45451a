import RelayIO

/// The bytes read from one side of an HTTP exchange and not yet used: a fixed buffer, allocated once per
/// connection, that heads are parsed in and bodies pass through.
final class HTTPInbound {
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// Bytes read and not consumed.
    var count: Int { end - start }

    /// Whether the buffer holds as much as it can: a head that does not fit is too large.
    var isFull: Bool { start == 0 && end == storage.count }

    /// The bytes read and not consumed; valid until the next `consume` or `fill`.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[start..<end]) }

    /// Forgets the first `count` bytes.
    func consume(_ count: Int) {
        precondition(count <= self.count, "consumed \(count) of \(self.count) bytes")
        start += count
        if start == end { start = 0; end = 0 }
    }

    /// Reads what `connection` has (waiting until `deadline` if nothing is there), after the bytes held; returns
    /// the bytes read, 0 at the end of stream. Throws `IOError.timedOut` at the deadline.
    ///
    /// `expectingNothingYet`: the peer cannot have sent anything yet (a response right after its request, the
    /// next request right after a response), so wait for a readiness edge first instead of spending a `recv` on
    /// `EAGAIN`; an edge that came before the wait is latched, so nothing is missed.
    nonisolated(nonsending) func fill(from connection: TCPConnection, deadline: UInt64?, expectingNothingYet: Bool = false) async throws -> Int {
        if end == storage.count, start > 0 {
            let held = end - start
            storage.baseAddress!.copyMemory(from: storage.baseAddress! + start, byteCount: held)
            start = 0
            end = held
        }
        precondition(end < storage.count, "fill on a full buffer")
        let room = UnsafeMutableRawBufferPointer(rebasing: storage[end...])
        if expectingNothingYet { try await connection.waitReadable(deadline: deadline) }
        let read = try await connection.read(into: room, deadline: deadline)
        end += read
        return read
    }
}
