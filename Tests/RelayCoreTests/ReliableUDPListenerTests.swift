import Foundation
import RelayIO
import RelayProtocol
import Synchronization
import Testing
import TestSupport
@testable import RelayCore

@Suite struct ReliableUDPListenerTests {
    @Test func messagesGoToTheServerAndItsRepliesComeBackInOrder() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            try await withRelay(try reliableConfig(servers: [backend.address])) { relay in
                let front = try relay.address("rudp")
                let echoed = try await withTimeout(.seconds(30)) {
                    try await ReliableUDPClient.connect(to: front, configuration: ReliableTestKeys.client(),
                                                        on: clientLoops.next()) { client in
                        for index in 0..<100 { try await client.send(Array("message \(index)".utf8)) }
                        var received: [String] = []
                        while received.count < 100, let message = try await client.receive() {
                            received.append(String(decoding: message.bytes, as: UTF8.self))
                        }
                        try await client.finish()
                        return received
                    }
                }
                #expect(echoed == (0..<100).map { "message \($0)" })
                #expect(backend.requests.count == 100)
                let listener = try #require(relay.server.reliableListeners["rudp"])
                #expect(listener.counters.handshakes(.established) == 1)
                #expect(listener.counters.messagesUp.load(ordering: .relaxed) == 100)
                #expect(listener.counters.messagesDown.load(ordering: .relaxed) == 100)
                try await eventually("the session to end") { await listener.store.count == 0 }
                #expect(listener.counters.sessionsClosed(.normal, byClient: true) == 1)
            }
        }
    }
}
