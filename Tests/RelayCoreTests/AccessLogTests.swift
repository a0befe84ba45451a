import Foundation
import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite struct AccessLogTests {
    /// Waits until the access log at `path` holds `count` lines, and returns them.
    private func lines(in path: String, atLeast count: Int, log: AccessLog?) async throws -> [String] {
        var lines: [String] = []
        try await eventually("\(count) lines in the access log (\(lines.count) so far)") {
            log?.flushNow()
            let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            lines = text.split(separator: "\n").map(String.init)
            return lines.count >= count
        }
        return lines
    }

    @Test func tcpConnections_getOneTextLineEach_withBytesServerAndEnd() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let path = NSTemporaryDirectory() + "relayd-access-\(UUID().uuidString).log"
            defer { try? FileManager.default.removeItem(atPath: path) }
            let config = """
                {
                  listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app" } ],
                  backends: { app: { servers: ["\(backend.listener.localAddress)"] } },
                  log: { access_file: "\(path)" },
                }
                """
            try await withRelay(config) { relay in
                let front = try relay.address("web")
                try await withTimeout {
                    for index in 0..<3 {
                        let client = try await TestClient.connect(front)
                        try await client.send("hello-\(index)")
                        _ = try await client.read(exactly: 7)
                        client.connection.shutdownWrite()
                        _ = try await client.readToEnd()
                        client.close()
                    }
                }
                let lines = try await lines(in: path, atLeast: 3, log: relay.server.accessLog)
                #expect(lines.count == 3)
                for line in lines {
                    #expect(line.contains("msg=access listener=web proto=tcp client=127.0.0.1:"))
                    #expect(line.contains("server=\(backend.listener.localAddress)"))
                    #expect(line.contains("bytes_in=7 bytes_out=7"))
                    #expect(line.contains("end=closed"))
                    #expect(line.contains("duration_ms="))
                }
            }
        }
    }

    @Test func noBackend_isLoggedWithItsReason_inJSON() async throws {
        let dead = try deadAddress()
        let path = NSTemporaryDirectory() + "relayd-access-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let config = """
            {
              listeners: [ { name: "web", listen: "127.0.0.1:0", backend: "app" } ],
              backends: { app: { servers: ["\(dead)"], probe: { initial: { enabled: false } } } },
              log: { access_file: "\(path)", format: "json" },
            }
            """
        try await withRelay(config) { relay in
            let client = try await TestClient.connect(try relay.address("web"))
            _ = try? await withTimeout(.seconds(5)) { try await client.readToEnd() }
            client.close()
            let lines = try await lines(in: path, atLeast: 1, log: relay.server.accessLog)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
            #expect(object["msg"] == "access")
            #expect(object["end"] == "no_backend")
            #expect(object["server"] == "-")
            #expect(object["bytes_in"] == "0")
            #expect(object["error"]?.contains(dead.description) == true)
        }
    }

    @Test func udpFlows_areLoggedWhenTheyExpire() async throws {
        try await withTestServer(UDPEchoBackend()) { echo in
            let path = NSTemporaryDirectory() + "relayd-access-\(UUID().uuidString).log"
            defer { try? FileManager.default.removeItem(atPath: path) }
            // Both round trips must fall in one flow: the idle time-out leaves a loaded machine room between them.
            let config = try udpConfig(servers: [echo.address], extra: ", idle_timeout: \"5s\"")
                .replacingOccurrences(of: "log: { level: \"debug\" }", with: "log: { level: \"debug\", access_file: \"\(path)\" }")
            try await withRelay(config) { relay in
                let client = try UDPTestClient(try relay.address("dns"))
                defer { client.close() }
                #expect(try await client.roundTrip(Array("abc".utf8)) == Array("abc".utf8))
                #expect(try await client.roundTrip(Array("defg".utf8)) == Array("defg".utf8))
                let lines = try await lines(in: path, atLeast: 1, log: relay.server.accessLog)
                let line = try #require(lines.first)
                #expect(line.contains("listener=dns proto=udp"))
                #expect(line.contains("server=\(echo.address)"))
                #expect(line.contains("bytes_in=7 bytes_out=7"))
                #expect(line.contains("end=idle"))
            }
        }
    }

    @Test(.computeBound) func aFullBufferDropsAndCounts_insteadOfGrowing() throws {
        let path = NSTemporaryDirectory() + "relayd-access-\(UUID().uuidString).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AccessLog(format: .text, destination: .file(path))
        let entry = AccessLogEntry(listener: String(repeating: "x", count: 4000), proto: "tcp",
                                   client: try SocketAddress(ip: "127.0.0.1", port: 1), server: nil, bytesIn: 0,
                                   bytesOut: 0, duration: .milliseconds(1), end: "closed")
        // 3,000 lines of ~4 KB in a tight loop: more than the 8 MiB bound if the writer falls behind.
        for _ in 0..<3000 { log.record(entry) }
        log.flushNow()
        let written = log.written.load(ordering: .relaxed)
        let dropped = log.dropped.load(ordering: .relaxed)
        #expect(written + dropped == 3000)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count
        #expect(lines == written)
    }

    @Test func reopenFollowsARotatedFile() throws {
        let path = NSTemporaryDirectory() + "relayd-access-\(UUID().uuidString).log"
        defer {
            try? FileManager.default.removeItem(atPath: path)
            try? FileManager.default.removeItem(atPath: path + ".1")
        }
        let log = try AccessLog(format: .text, destination: .file(path))
        let entry = AccessLogEntry(listener: "web", proto: "tcp", client: try SocketAddress(ip: "127.0.0.1", port: 1),
                                   server: nil, bytesIn: 1, bytesOut: 2, duration: .milliseconds(3), end: "closed")
        log.record(entry)
        log.flushNow()
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try log.reopen()
        log.record(entry)
        log.flushNow()
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8).split(separator: "\n").count == 1)
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func anAccessFileThatCannotBeOpened_failsStartWithItsPath() throws {
        let config = try RelayConfig.parse("{ log: { access_file: \"/nonexistent-dir/access.log\" } }")
        #expect {
            _ = try RelayServer(config: config, logger: .disabled)
        } throws: { error in
            String(describing: error).contains("/nonexistent-dir/access.log")
        }
    }
}
