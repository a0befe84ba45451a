import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The HTTP gateway between real programs: curl as the client, nginx as the server, the real relayd binary in
/// between. Skipped, naming the packages, when nginx or curl is missing (`.ci/run` installs them).
@Suite(.serialized) struct HTTPGatewayInteropTests {
    typealias External = ProxyProtocolInteropTests.External

    static var available: Bool { ["nginx", "curl"].allSatisfy { ProxyProtocolInteropTests.binary($0) != nil } }
    static let missing: Comment = "nginx or curl is not installed: apt-get install nginx curl"

    static func curl(_ arguments: [String], timeout: Duration = .seconds(60)) throws -> (output: String, error: String) {
        let result = try ChildProcess.run(ProxyProtocolInteropTests.binary("curl")!, ["-sS", "--max-time", "50"] + arguments,
                                          timeout: timeout)
        guard result.termination == .exited(0) else {
            throw TestFailure("curl \(arguments) failed: \(String(decoding: result.error, as: UTF8.self))")
        }
        return (String(decoding: result.output, as: UTF8.self), String(decoding: result.error, as: UTF8.self))
    }

    /// The largest resident size relayd reached, in KiB (`VmHWM`).
    static func peakKiB(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    @Test(.enabled(if: available, missing))
    func curlThroughRelaydToNginx_keepAliveBothSides_streamedUpload_expectContinue() async throws {
        let directory = temporaryPath("relayd-http-interop")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nginxPort = try ProxyProtocolInteropTests.freePort()
        let sinkPort = try ProxyProtocolInteropTests.freePort()
        let nginxConfig = ProxyProtocolInteropTests.nginxPreamble(directory) + """
              access_log off;
              keepalive_requests 10000;
              server {
                listen 127.0.0.1:\(nginxPort);
                location / { return 200 "conn=$connection xff=$http_x_forwarded_for rid=$http_x_request_id\\n"; }
                location /upload { client_max_body_size 0; proxy_pass http://127.0.0.1:\(sinkPort); }
              }
              server { listen 127.0.0.1:\(sinkPort); client_max_body_size 0; location / { return 201 "got $content_length\\n"; } }
            }
            """
        try nginxConfig.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let nginx = try await External("nginx", ["-c", "\(directory)/nginx.conf", "-e", "\(directory)/nginx-error.log"],
                                       logPath: "\(directory)/nginx.out", port: nginxPort)
        defer { nginx.stop() }
        let config = try temporaryFile("""
            { listeners: [ { name: "gw", protocol: "http", listen: "127.0.0.1:0", backend: "web" } ],
              backends: { web: { servers: ["127.0.0.1:\(nginxPort)"] } }, io: { loops: 2 } }
            """)
        defer { try? FileManager.default.removeItem(atPath: config) }
        try await withRelayd(["serve", "-c", config]) { relayd in
            let port = try SocketAddress(parsing: try await relayd.listenerAddress("gw")).port
            let url = "http://127.0.0.1:\(port)"
            // Twenty requests in one curl: one client connection, reused (curl says so), and nginx sees one
            // connection from relayd for all of them.
            let (output, trace) = try Self.curl(["-v"] + (0..<20).map { "\(url)/r\($0)" })
            let lines = output.split(separator: "\n")
            #expect(lines.count == 20)
            #expect(trace.components(separatedBy: "Re-using existing connection").count - 1 == 19, "\(trace.suffix(2000))")
            #expect(Set(lines.map { $0.split(separator: " ")[0] }).count == 1, "\(lines)")
            #expect(lines.allSatisfy { $0.contains("xff=127.0.0.1") && !$0.hasSuffix("rid=") })
            // More clients, one after the other: relayd keeps at most one idle connection per loop busy here,
            // so nginx counts at most two connections (io.loops) for all of them.
            var connections = Set(lines.map { String($0.split(separator: " ")[0]) })
            for round in 0..<10 {
                let (more, _) = try Self.curl(["\(url)/again\(round)"])
                connections.insert(String(more.split(separator: " ")[0]))
            }
            #expect(connections.count <= 2, "nginx saw \(connections)")
            // Expect: 100-continue: curl gets the interim answer at once (it would wait a second without it).
            let started = ContinuousClock.now
            let (expect, _) = try Self.curl(["-H", "Expect: 100-continue", "--data-binary", "hello", "\(url)/upload"])
            #expect(expect == "got 5\n")
            #expect(ContinuousClock.now - started < .milliseconds(900))
            // 100 MiB streamed chunked: relayd's memory stays far below the body's size.
            let file = "\(directory)/upload.bin"
            #expect(FileManager.default.createFile(atPath: file, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
            let block = Data(repeating: 0x5A, count: 1 << 20)
            for _ in 0..<100 { handle.write(block) }
            try handle.close()
            let (upload, _) = try Self.curl(["-H", "Transfer-Encoding: chunked", "-T", file, "\(url)/upload"],
                                            timeout: .seconds(120))
            #expect(upload == "got 104857600\n")
            let (plain, _) = try Self.curl(["--data-binary", "@\(file)", "\(url)/upload"], timeout: .seconds(120))
            #expect(plain == "got 104857600\n")
            let peak = Self.peakKiB(relayd.process.pid)
            #expect(peak > 0 && peak < 64 * 1024, "relayd's peak resident size was \(peak) KiB")
        }
    }
}
