import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// Batched datagram I/O: one `recvmmsg` or `sendmmsg` moves up to a whole `DatagramBatch`.
///
/// Errors: a connected socket whose peer answered an earlier datagram with ICMP port unreachable gets
/// `IOError.syscall(call: "recvmmsg" or "sendmmsg", errno: ECONNREFUSED)` from the next receive or send
/// (the kernel reports it once). That is how a flow learns its backend is gone: report it as an upstream
/// failure. A bound (unconnected) socket never sees it. A receive or send on an aborted socket that has
/// to wait fails with `IOError.closed`; on a closed socket every call does, without a system call.
extension UDPSocket {
    /// Receives what is queued, up to `batch.capacity` datagrams, with one `recvmmsg` that never blocks.
    /// The batch's previous contents are replaced (on `.wouldBlock` or an error it is left empty).
    /// Returns the number of datagrams received (at least 1), or `.wouldBlock` when none was queued.
    public func receiveNow(into batch: DatagramBatch) throws(IOError) -> IOResult<Int> {
        batch.prepareForReceive()
        let result = try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("recvmmsg") { crelay_recvmmsg(fd, batch.headers, UInt32(batch.capacity)) }
        }
        switch result {
        case let .processed(received):
            batch.didReceive(Int(received))
            return .processed(Int(received))
        case .wouldBlock:
            return .wouldBlock
        }
    }

    /// Receives at least one datagram into `batch` (replacing its contents), waiting for one to arrive
    /// if none is queued, until `deadline` (CLOCK_MONOTONIC nanoseconds; `IOError.timedOut`). Returns the
    /// number received.
    public func receive(into batch: DatagramBatch, deadline: UInt64? = nil) async throws -> Int {
        while true {
            switch try receiveNow(into: batch) {
            case let .processed(received): return received
            case .wouldBlock: try await registration.wait(for: .read, deadline: deadline)
            }
        }
    }

    /// Sends the held datagrams from index `start` on with one `sendmmsg` that never blocks, each to its
    /// slot's peer or, for a slot without one, to the connected peer. Returns how many the kernel took,
    /// from `start` on (0 when there was nothing to send): the caller retries the rest, from
    /// `start + taken`, or counts them as dropped. `.wouldBlock` means the send buffer is full. When the
    /// first datagram fails the call throws; when a later one does, the call returns the count before it
    /// and that datagram's error comes from the next call. The batch is left as it was.
    ///
    /// `end` (default: every held datagram) stops the send before that slot, so a run of slots bound for
    /// this socket can go in one call while the rest of the batch goes elsewhere.
    public func sendNow(_ batch: DatagramBatch, from start: Int = 0, to end: Int? = nil) throws(IOError) -> IOResult<Int> {
        let end = end ?? batch.count
        precondition(start >= 0 && start <= end && end <= batch.count,
                     "send range \(start)..<\(end) out of range 0...\(batch.count)")
        let pending = end - start
        if pending == 0 { return .processed(0) }
        sendsTried.add(1, ordering: .relaxed)
        let result = try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("sendmmsg") { crelay_sendmmsg(fd, batch.headers + start, UInt32(pending)) }
        }
        switch result {
        case let .processed(taken): return .processed(Int(taken))
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Sends the datagrams in slots `start..<end` with one `sendmsg` carrying `UDP_SEGMENT`, all to `peer` (nil:
    /// the connected peer), never blocking: the kernel cuts the bytes back into the same datagrams after one
    /// trip through its send path instead of one per datagram. `segment` must be
    /// `batch.uniformSegment(from:to:)`. The slots' own peers are not looked at. Returns the number of
    /// datagrams sent (all of them), or `.wouldBlock`. Throws where the path cannot segment (`EINVAL` when a
    /// segment does not fit the route's MTU, `EIO` without checksum offload, `ENOPROTOOPT` on kernels before
    /// 4.18), as well as what `sendNow` throws: the caller sends them another way.
    public func sendSegmentedNow(_ batch: DatagramBatch, from start: Int, to end: Int, segment: Int,
                                 peer: SocketAddress? = nil) throws(IOError) -> IOResult<Int> {
        precondition(start >= 0 && start < end && end <= batch.count, "send range \(start)..<\(end) out of range")
        precondition(segment > 0 && segment <= Int(UInt16.max), "segment size \(segment) out of range")
        sendsTried.add(1, ordering: .relaxed)
        let result = try withDescriptor { fd throws(IOError) in
            try syscallNonBlocking("sendmsg(UDP_SEGMENT)") {
                if let peer {
                    return peer.withSockAddr { pointer, length in
                        crelay_send_segmented(fd, pointer, length, batch.vectors + start, UInt32(end - start),
                                              UInt16(segment))
                    }
                }
                return crelay_send_segmented(fd, nil, 0, batch.vectors + start, UInt32(end - start), UInt16(segment))
            }
        }
        switch result {
        case .processed: return .processed(end - start)
        case .wouldBlock: return .wouldBlock
        }
    }

    /// Sends every held datagram, waiting for buffer space as needed, until `deadline` (CLOCK_MONOTONIC
    /// nanoseconds; `IOError.timedOut`). Throws the first datagram the kernel refuses (say `EMSGSIZE`, or
    /// `ECONNREFUSED` on a connected socket); the ones before it were sent, the ones after it were not.
    /// The batch is left as it was, so it can be sent again elsewhere.
    public func send(_ batch: DatagramBatch, deadline: UInt64? = nil) async throws {
        var sent = 0
        while sent < batch.count {
            switch try sendNow(batch, from: sent) {
            case let .processed(taken): sent += taken
            case .wouldBlock: try await registration.wait(for: .write, deadline: deadline)
            }
        }
    }

    /// The datagrams arriving on this socket, a batch at a time: each `next()` refills `batch` and returns
    /// it, valid until the following `next()`. The sequence ends when the socket is aborted or closed.
    ///
    /// The shape forwarding code iterates with `for try await batch in socket.batches(batch)`; iteration
    /// allocates nothing.
    public func batches(_ batch: DatagramBatch) -> DatagramBatches {
        DatagramBatches(socket: self, batch: batch)
    }
}

/// The batches of datagrams a `UDPSocket` receives, all delivered in one reused `DatagramBatch`.
///
/// Not `Sendable`: it hands out the batch, which belongs to the task iterating it. Ends (returns nil)
/// once the socket is aborted, which is how an owner stops the task that reads it; throws what a receive
/// throws otherwise, `ECONNREFUSED` included.
public struct DatagramBatches: AsyncSequence {
    public typealias Element = DatagramBatch

    /// The socket read from.
    let socket: UDPSocket
    /// Refilled by every `next()`.
    let batch: DatagramBatch

    public func makeAsyncIterator() -> Iterator {
        Iterator(socket: socket, batch: batch)
    }

    /// Refills the one batch on each `next()`.
    public struct Iterator: AsyncIteratorProtocol {
        /// The socket read from.
        let socket: UDPSocket
        /// Refilled and returned by every `next()`.
        let batch: DatagramBatch

        public mutating func next() async throws -> DatagramBatch? {
            // Checked first: with the syscall tried before any wait, a busy socket would otherwise keep
            // delivering after its owner aborted it.
            if socket.registration.isAborted { return nil }
            do {
                _ = try await socket.receive(into: batch)
                return batch
            } catch IOError.closed {
                return nil
            }
        }
    }
}
