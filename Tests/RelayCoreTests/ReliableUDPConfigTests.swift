import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// The reliable-udp listener's keys: file:line errors, and the file read again on reload.
/// A session awaits messages without a deadline of its own: the time limit ends a test whose message never came
/// (the plain-UDP leg to the backend has no retransmission) instead of leaving the run hanging.
@Suite(.timeLimit(.minutes(5))) struct ReliableUDPConfigTests {
    @Test func aBadKeysFileIsAConfigErrorNamingFileAndLine() throws {
        let keys = try temporaryFile("# keys\nalice 00112233\n", suffix: ".keys")
        let text = """
            { listeners: [ { name: "r", protocol: "reliable-udp", listen: "127.0.0.1:0", backend: "b",
                             keys_file: "\(keys)" } ],
              backends: { b: { servers: ["127.0.0.1:9"] } } }
            """
        let error = #expect(throws: ConfigError.self) { try RelayConfig.parse(text) }
        let message = error.map { "\($0)" } ?? ""
        #expect(message.contains("\(keys):2"), "\(message)")
    }

    @Test func keysOnlyReliableListenersTakeAreUnknownElsewhere() throws {
        let text = """
            { listeners: [ { name: "u", protocol: "udp", listen: "127.0.0.1:0", backend: "b", max_sessions: 5 } ],
              backends: { b: { servers: ["127.0.0.1:9"] } } }
            """
        #expect(throws: ConfigError.self) { try RelayConfig.parse(text) }
    }

    @Test func redundancy_isReadWithItsThreshold_andWrongValuesNameTheKey() throws {
        let keys = try ReliableTestKeys.file()
        func parse(_ extra: String) throws -> ReliableListenerConfig? {
            let text = """
                { listeners: [ { name: "r", protocol: "reliable-udp", listen: "127.0.0.1:0", backend: "b",
                                 keys_file: "\(keys)" \(extra) } ],
                  backends: { b: { servers: ["127.0.0.1:9"] } } }
                """
            return try RelayConfig.parse(text).listeners.first?.reliable
        }
        #expect(try parse("")?.sessionRedundancy == .off)
        #expect(try parse(#", redundancy: "always""#)?.sessionRedundancy == .always)
        #expect(try parse(#", redundancy: "adaptive""#)?.sessionRedundancy == .adaptive(lossThreshold: 5_000))
        #expect(try parse(#", redundancy: "adaptive", redundancy_loss_threshold: 2"#)?.sessionRedundancy
                == .adaptive(lossThreshold: 20_000))
        for (extra, key) in [(#", redundancy: "twice""#, "redundancy"),
                             (#", redundancy_loss_threshold: 101"#, "redundancy_loss_threshold")] {
            let error = #expect(throws: ConfigError.self) { try parse(extra) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(key))
        }
    }

    @Test func redundancyAlways_sendsEveryPacketToTheClientTwice_andCountsTheCopies() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            let config = try reliableConfig(servers: [backend.address], extra: #", redundancy: "always""#)
            try await withRelay(config) { relay in
                let messages = (0..<20).map { [UInt8](repeating: UInt8($0), count: 50) }
                #expect(try await echoThroughSession(try relay.address("rudp"), messages) == messages)
                let counters = try #require(relay.server.reliableListeners["rudp"]).counters
                // Every echo went out twice; the client's copies are its own business (redundancy off there).
                #expect(counters.redundantCopies.load(ordering: .relaxed) >= 20)
                let metrics = try PrometheusExposition(parsing: await relay.server.metrics.render())
                #expect((metrics.value("relayd_reliable_redundant_copies_total", ["listener": "rudp"]) ?? 0) >= 20)
            }
        }
    }

    @Test func aReloadReadsTheKeysFileAgain() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            let keys = try ReliableTestKeys.file([ReliableTestKeys.clients[0]])
            let config = try reliableConfig(servers: [backend.address], keysFile: keys)
            try await withReloadableRelay(config) { relay, path in
                let front = try relay.address("rudp")
                let bob = ReliableTestKeys.client("bob")
                let refused = await #expect(throws: ReliableUDPClientError.self) {
                    try await echoThroughSession(front, [[1]], configuration: bob)
                }
                #expect(refused == .refused(.badAuth, clientID: "bob", retryAfterSeconds: 0))
                try (KeysFile.line(clientID: "alice", key: ReliableTestKeys.clients[0].key) + "\n"
                     + KeysFile.line(clientID: "bob", key: ReliableTestKeys.clients[1].key) + "\n")
                    .write(toFile: keys, atomically: true, encoding: .utf8)
                #expect(await relay.server.reload().applied)
                #expect(try await echoThroughSession(front, [[1, 2, 3]], configuration: bob) == [[1, 2, 3]])
            }
        }
    }
}
