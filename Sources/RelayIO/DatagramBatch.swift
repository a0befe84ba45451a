import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// A reusable set of datagram slots that one `recvmmsg` fills or one `sendmmsg` drains.
///
/// Batching is what makes UDP relaying cheap (IO-NOTES.md: batches of 32), and a batch only pays off if
/// it costs nothing per datagram: every buffer, address and kernel message header is allocated once, in
/// `init`, and the headers point at their buffers for the life of the batch, so a receive or a send
/// touches no allocator. A batch is owned by one task at a time; it is not `Sendable`.
///
/// Slots `0..<count` hold datagrams: received ones (`UDPSocket.receiveNow(into:)` replaces the contents)
/// or ones queued for sending with `append(_:to:)`. A received batch can be sent on as it is, without
/// copying: each datagram goes back to the address it came from unless `redirect` points it elsewhere,
/// and `removeAll(where:)` drops the ones that should not be forwarded.
public final class DatagramBatch {
    /// The default number of slots: the batch size measured in IO-NOTES.md.
    public static let defaultCapacity = 32
    /// The default slot size: the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6) fits,
    /// so no legitimate datagram is truncated.
    public static let defaultSlotSize = 65_536
    /// The most slots one batch may have: the kernel takes at most `UIO_MAXIOV` messages per call.
    public static let maximumCapacity = 1024

    /// Number of slots, and so the most datagrams one call can move.
    public let capacity: Int
    /// Bytes per slot: the largest datagram a slot holds whole.
    public let slotSize: Int
    /// Datagrams currently held, in slots `0..<count`.
    public private(set) var count = 0

    /// The kernel's message headers, one per slot; each points at its slot's iovec and address. Only
    /// the lengths, names and flags change after `init`.
    let headers: UnsafeMutablePointer<crelay_mmsghdr>
    /// One iovec per slot. `iov_base` is a slot buffer (a permutation of them: `removeAll(where:)` moves
    /// buffers rather than bytes); `iov_len` is the held datagram's length, or `slotSize` while receiving.
    let vectors: UnsafeMutablePointer<iovec>
    /// The peer of each slot: the sender of a received datagram, the destination of one to send.
    private let addresses: UnsafeMutablePointer<sockaddr_storage>
    /// All slot buffers in one allocation of `capacity * slotSize` bytes.
    private let storage: UnsafeMutableRawPointer

    /// Allocates `capacity` slots of `slotSize` bytes each, and everything else the batch will ever need.
    public init(capacity: Int = DatagramBatch.defaultCapacity, slotSize: Int = DatagramBatch.defaultSlotSize) {
        precondition((1...DatagramBatch.maximumCapacity).contains(capacity), "batch capacity \(capacity) out of range")
        precondition(slotSize > 0, "batch slot size must be positive")
        self.capacity = capacity
        self.slotSize = slotSize
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity * slotSize, alignment: 64)
        headers = UnsafeMutablePointer<crelay_mmsghdr>.allocate(capacity: capacity)
        vectors = UnsafeMutablePointer<iovec>.allocate(capacity: capacity)
        addresses = UnsafeMutablePointer<sockaddr_storage>.allocate(capacity: capacity)
        addresses.initialize(repeating: sockaddr_storage(), count: capacity)
        for slot in 0..<capacity {
            (vectors + slot).initialize(to: iovec(iov_base: storage + slot * slotSize, iov_len: slotSize))
            var header = crelay_mmsghdr()
            header.msg_hdr.msg_iov = vectors + slot
            header.msg_hdr.msg_iovlen = 1
            header.msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + slot)
            header.msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
            (headers + slot).initialize(to: header)
        }
    }

    deinit {
        headers.deinitialize(count: capacity)
        headers.deallocate()
        vectors.deinitialize(count: capacity)
        vectors.deallocate()
        addresses.deinitialize(count: capacity)
        addresses.deallocate()
        storage.deallocate()
    }

    /// True when no datagram is held.
    public var isEmpty: Bool { count == 0 }

    /// True when every slot holds a datagram: `append` would return false.
    public var isFull: Bool { count == capacity }

    /// The datagram in slot `index` (`0..<count`). The view borrows the batch's memory: it is valid
    /// until the batch is next received into, reset, reordered or deinitialized, and must not be kept.
    public subscript(index: Int) -> Datagram {
        precondition(index >= 0 && index < count, "datagram index \(index) out of range 0..<\(count)")
        let header = headers[index].msg_hdr
        let bytes = UnsafeRawBufferPointer(start: vectors[index].iov_base, count: vectors[index].iov_len)
        let peer = header.msg_name == nil ? nil : SocketAddress(storage: addresses[index], length: header.msg_namelen)
        return Datagram(bytes: bytes, peer: peer, truncated: header.msg_flags & Int32(MSG_TRUNC) != 0)
    }

    /// The length in bytes of the datagram in slot `index` (`0..<count`).
    public func length(of index: Int) -> Int {
        precondition(index >= 0 && index < count, "datagram index \(index) out of range 0..<\(count)")
        return vectors[index].iov_len
    }

    /// The segment size with which slots `start..<end` can go as one segmented send (`UDP_SEGMENT`): every
    /// datagram but the last is exactly that long and the last is no longer, there are at most
    /// `maximumSegments` of them and their bytes fit one UDP datagram. Nil when they cannot.
    public func uniformSegment(from start: Int, to end: Int) -> Int? {
        precondition(start >= 0 && start < end && end <= count, "segment range \(start)..<\(end) out of range")
        guard end - start <= DatagramBatch.maximumSegments else { return nil }
        let segment = vectors[start].iov_len
        guard segment > 0 else { return nil }
        var total = 0
        for slot in start..<end {
            let length = vectors[slot].iov_len
            if length != segment, !(slot == end - 1 && length > 0 && length < segment) { return nil }
            total += length
        }
        return total <= DatagramBatch.maximumSegmentedBytes ? segment : nil
    }

    /// The most datagrams one segmented send carries (the kernel's `UDP_MAX_SEGMENTS` has been 64 or more).
    public static let maximumSegments = 64
    /// The most payload bytes one segmented send carries: the largest UDP payload over IPv4.
    public static let maximumSegmentedBytes = 65_507

    /// Forgets every held datagram; the memory stays allocated for the next use.
    public func reset() {
        count = 0
    }

    /// Copies `bytes` into the next free slot as a datagram for `peer` (nil: the connected peer of the
    /// socket it will be sent on). Returns false, copying nothing, when the batch is full. A datagram
    /// longer than `slotSize` is a programming error.
    public func append(_ bytes: UnsafeRawBufferPointer, to peer: SocketAddress?) -> Bool {
        precondition(bytes.count <= slotSize, "datagram of \(bytes.count) bytes exceeds the slot size \(slotSize)")
        guard count < capacity else { return false }
        let slot = count
        if let source = bytes.baseAddress, bytes.count > 0 {
            vectors[slot].iov_base!.copyMemory(from: source, byteCount: bytes.count)
        }
        vectors[slot].iov_len = bytes.count
        headers[slot].msg_hdr.msg_flags = 0
        setPeer(peer, slot: slot)
        count += 1
        return true
    }

    /// Points the held datagram at `index` to `peer` (nil: the socket's connected peer) without touching
    /// its bytes, so a received datagram can be forwarded from the slot it arrived in.
    public func redirect(_ index: Int, to peer: SocketAddress?) {
        precondition(index >= 0 && index < count, "datagram index \(index) out of range 0..<\(count)")
        setPeer(peer, slot: index)
    }

    /// Points every held datagram to `peer` (nil: the connected peer of the socket it will be sent on).
    public func redirectAll(to peer: SocketAddress?) {
        for slot in 0..<count { setPeer(peer, slot: slot) }
    }

    /// Drops the held datagrams for which `shouldRemove` returns true, keeping the others in order.
    /// Slots trade buffers instead of copying bytes, so views taken before the call are invalid after it.
    public func removeAll(where shouldRemove: (Datagram) throws -> Bool) rethrows {
        var kept = 0
        for slot in 0..<count {
            if try shouldRemove(self[slot]) { continue }
            if kept != slot { move(slot, to: kept) }
            kept += 1
        }
        count = kept
    }

    // MARK: - For UDPSocket

    /// Makes every slot ready to receive a datagram of up to `slotSize` bytes from any peer and forgets
    /// what the batch held. The kernel writes the address length back, so it is restored on every call.
    func prepareForReceive() {
        count = 0
        let addressSize = socklen_t(MemoryLayout<sockaddr_storage>.size)
        for slot in 0..<capacity {
            vectors[slot].iov_len = slotSize
            headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + slot)
            headers[slot].msg_hdr.msg_namelen = addressSize
            headers[slot].msg_hdr.msg_flags = 0
            headers[slot].msg_len = 0
        }
    }

    /// Records that the kernel filled the first `received` slots.
    func didReceive(_ received: Int) {
        for slot in 0..<received {
            // msg_len is what was copied unless MSG_TRUNC is passed in (then it is the real length): clamp.
            vectors[slot].iov_len = min(Int(headers[slot].msg_len), slotSize)
        }
        count = received
    }

    // MARK: - Private

    private func setPeer(_ peer: SocketAddress?, slot: Int) {
        if let peer {
            addresses[slot] = peer.storage
            headers[slot].msg_hdr.msg_name = UnsafeMutableRawPointer(addresses + slot)
            headers[slot].msg_hdr.msg_namelen = peer.length
        } else {
            headers[slot].msg_hdr.msg_name = nil
            headers[slot].msg_hdr.msg_namelen = 0
        }
    }

    /// Moves the datagram in `source` to the earlier slot `target`, whose datagram is being dropped: the
    /// two slots swap buffers, so every buffer still belongs to exactly one slot.
    private func move(_ source: Int, to target: Int) {
        let freed = vectors[target].iov_base
        vectors[target].iov_base = vectors[source].iov_base
        vectors[target].iov_len = vectors[source].iov_len
        vectors[source].iov_base = freed
        addresses[target] = addresses[source]
        let moved = headers[source]
        headers[target].msg_hdr.msg_name = moved.msg_hdr.msg_name == nil ? nil : UnsafeMutableRawPointer(addresses + target)
        headers[target].msg_hdr.msg_namelen = moved.msg_hdr.msg_namelen
        headers[target].msg_hdr.msg_flags = moved.msg_hdr.msg_flags
        headers[target].msg_len = moved.msg_len
    }
}
