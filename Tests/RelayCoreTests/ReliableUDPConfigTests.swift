import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// The reliable-udp listener's keys: file:line errors, and the file read again on reload.
@Suite struct ReliableUDPConfigTests {
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
