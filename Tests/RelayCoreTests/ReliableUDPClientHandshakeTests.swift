import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// The client's handshake against a scripted server: how it gives up, and what it says when it does.
@Suite struct ReliableUDPClientHandshakeTests {
    /// A server that answers every HELLO with a CHALLENGE and every RESPONSE with REFUSED "expired cookie", as a
    /// server whose secret rotates faster than the client answers would. The client starts again each time until its
    /// attempts are spent, then reports how long that took, not its whole handshake timeout.
    @Test func expiredCookieEveryTime_spendsTheAttempts_andReportsTheRealTime() async throws {
        let server = try UDPSocket.bind(try SocketAddress(ip: "127.0.0.1", port: 0), on: clientLoops.next())
        let address = try server.localAddress()
        let responses = CountBox()
        let script = Task(executorPreference: server.loop) {
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 1)
            defer { buffer.deallocate() }
            while let (count, sender, _) = try? await server.receive(into: buffer) {
                let reply: [UInt8]
                switch try? ReliablePacket.decode(Array(buffer[0..<count])) {
                case .hello(let hello):
                    reply = ReliableChallenge(
                        echo: Array(hello.clientNonce.prefix(ReliableWire.echoSize)),
                        serverNonce: SecureRandom.bytes(count: ReliableWire.nonceSize),
                        cookie: ReliableCookie(epoch: 0, mac: SecureRandom.bytes(count: ReliableWire.macSize))
                    ).encode()
                case .response(let response):
                    responses.increment()
                    reply = ReliableRefused(echo: Array(response.clientNonce.prefix(ReliableWire.echoSize)),
                                            reason: .expiredCookie, retryAfterSeconds: 0).encode()
                default:
                    continue
                }
                _ = reply.withUnsafeBytes { try? server.sendNow($0, to: sender) }
            }
        }
        defer {
            server.close()
            script.cancel()
        }
        let configuration = ReliableTestKeys.client(handshakeTimeout: .seconds(30))
        let error = await #expect(throws: ReliableUDPClientError.self) {
            try await ReliableUDPClient.connect(to: address, configuration: configuration,
                                                on: clientLoops.next()) { _ in }
        }
        guard case .noAnswer(let server, let after) = error else {
            Issue.record("expected no answer, got \(String(describing: error))")
            return
        }
        #expect(server == address.description)
        #expect(after < .seconds(30), "reported \(after), the whole timeout, for attempts spent sooner")
        // Six attempts: three HELLOs and three RESPONSEs, each RESPONSE refused.
        #expect(responses.count == 3)
    }
}
