import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

/// `relayd keygen` and `relayd connect`, the real binary as a child process.
@Suite struct ReliableCommandLineTests {
    @Test func keygenPrintsAKeysFileLineWithAFreshKey() async throws {
        let (status, output) = try await runRelayd(["keygen", "--client-id", "sensor-17"])
        #expect(status == 0)
        let fields = output.split(separator: " ")
        #expect(fields.count == 2 && fields[0] == "sensor-17")
        #expect(fields.last?.trimmingCharacters(in: .whitespacesAndNewlines).count == 64)
        let (_, other) = try await runRelayd(["keygen", "--client-id", "sensor-17"])
        #expect(other != output, "two keys alike")
        let (bad, message) = try await runRelayd(["keygen", "--client-id", "no spaces"])
        #expect(bad == 2 && message.contains("invalid client id"))
    }

    @Test func connectSendsLinesAndPrintsTheReplies_andNamesARefusal() async throws {
        try await withTestServer(try UDPEchoBackend()) { backend in
            // The server knows alice by the key the CLI's key file holds; mallory's file holds a key it does not know.
            let (_, line) = try await runRelayd(["keygen", "--client-id", "alice"])
            let keys = try temporaryFile(line, suffix: ".keys")
            let (_, wrongLine) = try await runRelayd(["keygen", "--client-id", "alice"])
            let wrong = try temporaryFile(wrongLine, suffix: ".keys")
            try await withRelay(try reliableConfig(servers: [backend.address], keysFile: keys)) { relay in
                let front = try relay.address("rudp").description
                let input = (1...20).map { "line \($0)" }.joined(separator: "\n") + "\n"
                let (status, output) = try await runRelayd(["connect", front, "--key-file", keys], input: input)
                #expect(status == 0, "\(output)")
                #expect(output == input)
                #expect(backend.requests.count == 20)

                let (refused, message) = try await runRelayd(["connect", front, "--key-file", wrong], input: "x\n")
                #expect(refused == 1)
                #expect(message.contains("refused: bad key for client 'alice'"), "\(message)")
            }
        }
    }

    @Test func connectGivesUpAfterFiveSecondsOfSilence() async throws {
        let silent = try UDPSocket.bind(try SocketAddress(ip: "127.0.0.1", port: 0), on: clientLoops.next())
        defer { silent.close() }
        let address = try silent.localAddress().description
        let keys = try ReliableTestKeys.file()
        let started = ContinuousClock.now
        let (status, message) = try await runRelayd(["connect", address, "--key-file", keys, "--client-id", "bob"],
                                                    input: "x\n")
        #expect(status == 1)
        #expect(message.contains("no answer from \(address) after 5 s"), "\(message)")
        #expect(ContinuousClock.now - started >= .seconds(5))
    }
}
