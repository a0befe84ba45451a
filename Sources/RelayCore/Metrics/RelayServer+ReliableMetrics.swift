import RelayProtocol

/// The reliable-UDP listeners' metrics: sessions, handshakes, packets, messages, drops, RTT and delivery latency.
extension RelayServer {
    func collectReliableMetrics(_ listeners: [ReliableUDPListenerService], into out: inout MetricFamilies) async {
        var active: [([String: String], Double)] = []
        for listener in listeners { active.append((["listener": listener.name], Double(await listener.store.count))) }
        out.gauge("relayd_reliable_sessions_active", "Reliable-UDP sessions open now, by listener.", active)
        out.counter("relayd_reliable_sessions_opened_total", "Reliable-UDP sessions opened, by listener.",
                    listeners.map { (["listener": $0.name], Double($0.counters.sessionsOpened.load(ordering: .relaxed))) })
        out.counter("relayd_reliable_sessions_closed_total",
                    "Reliable-UDP sessions ended, by listener, reason (closed, idle, protocol_violation, shutdown, "
                    + "packet_numbers_exhausted, error, retransmission_timeout, unknown) and who closed (client, relayd).",
                    listeners.flatMap { listener in
                        ReliableUDPCounters.closeReasons.flatMap { reason in
                            [false, true].map { byClient in
                                (["listener": listener.name, "reason": reason.label,
                                  "by": byClient ? "client" : "relayd"],
                                 Double(listener.counters.sessionsClosed(reason, byClient: byClient)))
                            }
                        }
                    })
        out.counter("relayd_reliable_handshakes_total",
                    "Reliable-UDP handshake packets, by listener and result (challenged, established, repeated, "
                    + "bad_auth, server_full, rate_limited, unsupported_version, expired_cookie, bad_cookie, "
                    + "malformed, no_backend).",
                    listeners.flatMap { listener in
                        ReliableHandshakeResult.allCases.map { result in
                            (["listener": listener.name, "result": result.rawValue],
                             Double(listener.counters.handshakes(result)))
                        }
                    })
        func pair(_ name: String, _ help: String, _ inValue: (ReliableUDPCounters) -> Int,
                  _ outValue: (ReliableUDPCounters) -> Int) {
            out.counter(name, help, listeners.flatMap { listener in
                [(["listener": listener.name, "direction": "in"], Double(inValue(listener.counters))),
                 (["listener": listener.name, "direction": "out"], Double(outValue(listener.counters)))]
            })
        }
        pair("relayd_reliable_packets_total",
             "Reliable-UDP session packets, by listener and direction: in = accepted from clients, out = sent to them.",
             { $0.packetsIn.load(ordering: .relaxed) }, { $0.packetsOut.load(ordering: .relaxed) })
        pair("relayd_reliable_packet_bytes_total", "Bytes of those session packets, by listener and direction.",
             { $0.bytesIn.load(ordering: .relaxed) }, { $0.bytesOut.load(ordering: .relaxed) })
        pair("relayd_reliable_messages_total",
             "Messages relayed, by listener and direction: in = from clients to servers, out = from servers to clients.",
             { $0.messagesUp.load(ordering: .relaxed) }, { $0.messagesDown.load(ordering: .relaxed) })
        pair("relayd_reliable_message_bytes_total", "Bytes of those messages, by listener and direction.",
             { $0.messageBytesUp.load(ordering: .relaxed) }, { $0.messageBytesDown.load(ordering: .relaxed) })
        func single(_ name: String, _ help: String, _ value: (ReliableUDPCounters) -> Int) {
            out.counter(name, help, listeners.map { (["listener": $0.name], Double(value($0.counters))) })
        }
        single("relayd_reliable_retransmitted_total", "Fragments relayd sent again after declaring them lost.") {
            $0.retransmitted.load(ordering: .relaxed)
        }
        single("relayd_reliable_redundant_copies_total",
               "DATA packets relayd sent to clients as the second copy of another (the listener's redundancy).") {
            $0.redundantCopies.load(ordering: .relaxed)
        }
        single("relayd_reliable_duplicates_total", "Fragments from clients that arrived again (dropped).") {
            $0.duplicates.load(ordering: .relaxed)
        }
        single("relayd_reliable_out_of_order_total", "DATA packets from clients that arrived after a gap.") {
            $0.outOfOrder.load(ordering: .relaxed)
        }
        single("relayd_reliable_rebindings_total", "Sessions that followed their client to a new address.") {
            $0.rebindings.load(ordering: .relaxed)
        }
        out.counter("relayd_reliable_dropped_packets_total",
                    "Reliable-UDP datagrams dropped, by listener and reason (replayed, bad_tag, malformed, "
                    + "unknown_session, oversized, garbage, rate_limited, send_failed, backend_send_failed, "
                    + "backend_too_large).",
                    listeners.flatMap { listener in
                        listener.dropCounts.map { (["listener": listener.name, "reason": $0.0], Double($0.1)) }
                    })
        out.families.append(.histogram("relayd_reliable_rtt_seconds",
                                       help: "Round-trip times the sessions measured, by listener.",
                                       series: listeners.map { ([("listener", $0.name)], $0.counters.rtt.snapshot()) }))
        out.families.append(.histogram(
            "relayd_reliable_delivery_latency_seconds",
            help: "From a server's datagram handed to its session to the client's acknowledgement of all of it.",
            series: listeners.map { ([("listener", $0.name)], $0.counters.deliveryLatency.snapshot()) }))
    }
}
