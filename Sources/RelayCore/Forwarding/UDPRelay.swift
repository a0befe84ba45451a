import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// Moves one UDP flow's datagrams: each client datagram to the flow's server as it arrives, and the server's
/// replies back to the client, from the listener's address, until the flow ends.
///
/// The two directions are not alike, as they are in `TCPRelay`. Upstream is one send inside the listener's
/// receive loop, which takes a batch of datagrams for many flows at once (`recvmmsg`) and must not wait on any
/// one of them: a datagram the kernel will not take now is dropped and counted, never queued, as a router would.
/// Downstream is one task per flow, a plain loop: wait until the flow's socket is readable, then drain it a batch
/// at a time and send each batch on from the listener's socket with no suspension in between, which is what
/// lets all the flows of one event loop share one reply batch.
enum UDPRelay {
    /// The directions of a flow, as bits of `UDPFlow.unsegmentable`.
    enum Direction: UInt8 {
        case up = 1
        case down = 2
    }
    /// Sends one client datagram on to the flow's server without waiting, and counts it, or counts it dropped.
    static func forward(_ datagram: Datagram, on flow: UDPFlow, counters: UDPCounters) {
        if let prefix = flow.proxyPrefix {
            forward(datagram, prefixedWith: prefix, on: flow, counters: counters)
            return
        }
        count((try? flow.socket.sendNow(datagram.bytes)) ?? .wouldBlock, payload: datagram.bytes.count, on: flow,
              counters: counters)
    }

    /// Sends the datagrams in slots `start..<end` of a received batch, all of `flow`'s client, on to its server
    /// without waiting, and counts them, or counts the ones the kernel would not take as dropped. A run goes as
    /// one segmented send when `segmenting` allows and its sizes fit (`UDP_SEGMENT`: the kernel's send path
    /// once for the run), otherwise as one `sendmmsg` (a single datagram: one `send`). The slots are pointed at
    /// the flow's connected peer, which the next receive into the batch undoes.
    static func forward(_ batch: DatagramBatch, from start: Int, to end: Int, on flow: UDPFlow, segmenting: Bool,
                        counters: UDPCounters, logger: Logger) {
        if end - start == 1 || flow.proxyPrefix != nil {
            for index in start..<end { forward(batch[index], on: flow, counters: counters) }
            return
        }
        if segmenting, let sent = sendSegmented(batch, from: start, to: end, on: flow, direction: .up,
                                                through: flow.socket, peer: nil, counters: counters, logger: logger) {
            if sent { countUp(batch, from: start, to: end, on: flow, counters: counters) }
            else { counters.droppedSendFailed.add(end - start, ordering: .relaxed) }
            return
        }
        for index in start..<end { batch.redirect(index, to: nil) }
        var next = start
        while next < end {
            let result: IOResult<Int>
            do {
                result = try flow.socket.sendNow(batch, from: next, to: end)
            } catch {
                // The first datagram was refused (an ICMP error reported once, or the flow's socket closed):
                // it is dropped, and the rest are tried.
                counters.droppedSendFailed.add(1, ordering: .relaxed)
                next += 1
                continue
            }
            guard case let .processed(taken) = result, taken > 0 else {
                counters.droppedSendFailed.add(end - next, ordering: .relaxed)
                return
            }
            countUp(batch, from: next, to: next + taken, on: flow, counters: counters)
            next += taken
        }
    }

    /// Tries slots `start..<end` as one segmented send in `direction`, on `socket` to `peer` (nil: its connected
    /// peer). Nil
    /// when the run cannot go that way (sizes that do not fit one, or this flow's path refused it before or
    /// now: the caller sends it another way); true when sent, false when the socket's buffer was full (the
    /// whole run is dropped, as a full buffer drops a datagram).
    private static func sendSegmented(_ batch: DatagramBatch, from start: Int, to end: Int, on flow: UDPFlow,
                                      direction: Direction, through socket: UDPSocket, peer: SocketAddress?,
                                      counters: UDPCounters, logger: Logger) -> Bool? {
        guard flow.unsegmentable.load(ordering: .relaxed) & direction.rawValue == 0,
              let segment = batch.uniformSegment(from: start, to: end) else { return nil }
        do {
            let result = try socket.sendSegmentedNow(batch, from: start, to: end, segment: segment, peer: peer)
            guard case .processed = result else { return false }
            if direction == .up {
                counters.segmentedUp.add(end - start, ordering: .relaxed)
            } else {
                counters.segmentedDown.add(end - start, ordering: .relaxed)
            }
            return true
        } catch {
            guard [EINVAL, EIO, EMSGSIZE, ENOPROTOOPT, EOPNOTSUPP].contains(error.errno) else { return nil }
            flow.unsegmentable.bitwiseOr(direction.rawValue, ordering: .relaxed)
            counters.segmentationRefused.add(1, ordering: .relaxed)
            logger.debug("the path refused a segmented send; this flow sends datagram by datagram that way",
                         ["client": flow.client, "server": flow.server.address,
                          "direction": direction == .up ? "to server" : "to client", "error": error])
            return nil
        }
    }

    /// Counts the datagrams in slots `start..<end` as relayed from the client to the server.
    private static func countUp(_ batch: DatagramBatch, from start: Int, to end: Int, on flow: UDPFlow,
                                counters: UDPCounters) {
        var bytes = 0
        for index in start..<end { bytes += batch.length(of: index) }
        flow.requests.add(end - start, ordering: .relaxed)
        flow.bytesUp.add(bytes, ordering: .relaxed)
        counters.datagramsUp.add(end - start, ordering: .relaxed)
        counters.bytesUp.add(bytes, ordering: .relaxed)
    }

    /// Counts a datagram sent (its client's `payload` bytes) or dropped because the server's socket was full.
    @inline(__always)
    private static func count(_ sent: IOResult<Int>, payload: Int, on flow: UDPFlow, counters: UDPCounters) {
        switch sent {
        case .processed:
            flow.requests.add(1, ordering: .relaxed)
            flow.bytesUp.add(payload, ordering: .relaxed)
            counters.datagramsUp.add(1, ordering: .relaxed)
            counters.bytesUp.add(payload, ordering: .relaxed)
        case .wouldBlock:
            counters.droppedSendFailed.add(1, ordering: .relaxed)
        }
    }

    /// `forward` with the group's PROXY header first in the same datagram (`send_proxy: "v2"`): one copy per
    /// datagram, paid only by groups that ask for it. A datagram that no longer fits is dropped and counted.
    @inline(never)
    static func forward(_ datagram: Datagram, prefixedWith prefix: [UInt8], on flow: UDPFlow, counters: UDPCounters) {
        var bytes = prefix
        bytes.append(contentsOf: datagram.bytes)
        let sent = bytes.withUnsafeBytes { (try? flow.socket.sendNow($0)) ?? .wouldBlock }
        count(sent, payload: datagram.bytes.count, on: flow, counters: counters)
    }

    /// Relays a flow's replies to its client, sending them from `listener`, until the flow closes, its server
    /// answers with ICMP unreachable (the flow is marked `unreachable` and its group told), it got its
    /// `responses` replies, or its socket fails. Ending the flow is the caller's part.
    ///
    /// `batch` is shared by the flows of `listener`'s event loop: it is used only between two suspension points,
    /// on that loop's thread.
    static func relayReplies(of flow: UDPFlow, to listener: UDPSocket, through batch: DatagramBatch, segmenting: Bool,
                             counters: UDPCounters, logger: Logger) async {
        let responses = flow.responses
        reading: while !flow.closed.load(ordering: .relaxed) {
            do {
                try await flow.socket.registration.wait(for: .read)
            } catch {
                break
            }
            // Drain what arrived: receive a batch, point it at the client, send it from the listener's
            // socket, with no suspension in between (the batch is shared by this loop's flows).
            while true {
                let received: IOResult<Int>
                do {
                    received = try flow.socket.receiveNow(into: batch)
                } catch let error where error.errno == ECONNREFUSED {
                    flow.unreachable.store(true, ordering: .relaxed)
                    flow.group.report(flow.server, .connectFailed("udp: port unreachable (ICMP)"))
                    logger.debug("server unreachable; the flow moves on its next datagram",
                                 ["client": flow.client, "server": flow.server.address])
                    break reading
                } catch {
                    break reading
                }
                guard case .processed = received else { break }
                let before = batch.count
                batch.removeAll { $0.truncated }
                if batch.count < before { counters.droppedTruncated.add(before - batch.count, ordering: .relaxed) }
                if responses > 0 {
                    let allowed = max(0, responses - flow.replies.load(ordering: .relaxed))
                    if batch.count > allowed {
                        var index = 0
                        batch.removeAll { _ in defer { index += 1 }; return index >= allowed }
                    }
                }
                flow.touch(EventLoop.now())
                let sent: Int
                if segmenting, batch.count > 1,
                   let segmented = sendSegmented(batch, from: 0, to: batch.count, on: flow, direction: .down,
                                                 through: listener, peer: flow.client, counters: counters,
                                                 logger: logger) {
                    sent = segmented ? batch.count : 0
                } else {
                    batch.redirectAll(to: flow.client)
                    switch (try? listener.sendNow(batch)) ?? .wouldBlock {
                    case let .processed(count): sent = count
                    case .wouldBlock: sent = 0
                    }
                }
                if sent < batch.count { counters.droppedSendFailed.add(batch.count - sent, ordering: .relaxed) }
                var bytes = 0
                for index in 0..<sent { bytes += batch[index].bytes.count }
                flow.bytesDown.add(bytes, ordering: .relaxed)
                counters.bytesDown.add(bytes, ordering: .relaxed)
                counters.datagramsDown.add(sent, ordering: .relaxed)
                let total = flow.replies.add(batch.count, ordering: .relaxed).newValue
                batch.reset()
                if responses > 0, total >= responses { break reading }
            }
        }
    }
}
