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
    /// Sends one client datagram on to the flow's server without waiting, and counts it, or counts it dropped.
    static func forward(_ datagram: Datagram, on flow: UDPFlow, counters: UDPCounters) {
        if let prefix = flow.proxyPrefix {
            forward(datagram, prefixedWith: prefix, on: flow, counters: counters)
            return
        }
        count((try? flow.socket.sendNow(datagram.bytes)) ?? .wouldBlock, payload: datagram.bytes.count, on: flow,
              counters: counters)
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
    static func relayReplies(of flow: UDPFlow, to listener: UDPSocket, through batch: DatagramBatch,
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
                batch.redirectAll(to: flow.client)
                let sent: Int
                switch (try? listener.sendNow(batch)) ?? .wouldBlock {
                case let .processed(count): sent = count
                case .wouldBlock: sent = 0
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
