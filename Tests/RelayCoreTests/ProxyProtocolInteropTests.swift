import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// The PROXY protocol against the real implementations: HAProxy sending version 2 to relayd, relayd sending version 1
/// to nginx and version 2 to HAProxy, with curl as the client from its own loopback address (127.0.0.9), so the
/// address each server logs can only have come through the headers. Skipped, naming the package, when haproxy, nginx
/// or curl is missing (`.ci/run` installs them).
@Suite(.serialized) struct ProxyProtocolInteropTests {
    static func binary(_ name: String) -> String? {
        ["/usr/sbin/", "/usr/bin/", "/usr/local/sbin/", "/usr/local/bin/"].map { $0 + name }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static var available: Bool { ["haproxy", "nginx", "curl"].allSatisfy { binary($0) != nil } }
    static let missing: Comment = "haproxy, nginx or curl is not installed: apt-get install haproxy nginx curl"

    /// A server program run for one test: its output in a file, waited for until its port accepts.
    final class External: Sendable {
        let child: ChildProcess
        let logPath: String
        init(_ name: String, _ arguments: [String], logPath: String, port: UInt16) async throws {
            self.logPath = logPath
            guard let path = ProxyProtocolInteropTests.binary(name) else { throw TestFailure("\(name) is missing") }
            let child = try ChildProcess(path, arguments, output: .file(logPath), error: .file(logPath))
            self.child = child
            let address = try SocketAddress(ip: "127.0.0.1", port: port)
            try await eventually("\(name) to listen on \(address)", within: .seconds(20), poll: .milliseconds(20)) {
                guard child.isRunning else {
                    throw TestFailure("\(name) exited at start: \(Self.read(logPath))")
                }
                return (try? await TestClient.connect(address, timeout: .seconds(1)))
                    .map { client in client.close(); return true } ?? false
            }
        }

        static func read(_ path: String) -> String {
            FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }

        func stop() {
            child.signal(SIGTERM)
            _ = child.waitUntilExit()
        }
    }

    /// The start of an nginx config run in the foreground with everything it writes kept in `directory`, up to
    /// and including the opening of the `http` block.
    static func nginxPreamble(_ directory: String) -> String {
        """
        daemon off;
        master_process off;
        pid \(directory)/nginx.pid;
        error_log \(directory)/nginx-error.log warn;
        events { worker_connections 64; }
        http {
          client_body_temp_path \(directory)/body; proxy_temp_path \(directory)/proxy;
          fastcgi_temp_path \(directory)/fastcgi; uwsgi_temp_path \(directory)/uwsgi; scgi_temp_path \(directory)/scgi;

        """
    }

    static func freePort() throws -> UInt16 {
        let reservation = try PortReservation(.tcp)
        defer { reservation.release() }
        return reservation.address.port
    }

    /// curl from 127.0.0.9 to `port`: the body it got.
    static func curl(_ port: UInt16) throws -> String {
        let result = try ChildProcess.run(binary("curl")!, ["-sS", "--max-time", "10", "--interface", "127.0.0.9",
                                                            "http://127.0.0.1:\(port)/"], timeout: .seconds(20))
        guard result.termination == .exited(0) else {
            throw TestFailure("curl failed: \(String(decoding: result.error, as: UTF8.self))")
        }
        return String(decoding: result.output, as: UTF8.self)
    }

    @Test(.enabled(if: available, missing))
    func haproxyV2_relayd_v1_nginx_logsTheClientAddress() async throws {
        let directory = temporaryPath("relayd-proxy-interop")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let nginxPort = try Self.freePort()
        let nginxConfig = Self.nginxPreamble(directory) + """
              log_format proxied 'proxy_protocol_addr=$proxy_protocol_addr remote_addr=$remote_addr';
              access_log \(directory)/nginx-access.log proxied;
              server { listen 127.0.0.1:\(nginxPort) proxy_protocol; location / { return 200 "nginx-ok\\n"; } }
            }
            """
        try nginxConfig.write(toFile: "\(directory)/nginx.conf", atomically: true, encoding: .utf8)
        let nginx = try await External("nginx", ["-c", "\(directory)/nginx.conf", "-e", "\(directory)/nginx-error.log"],
                                       logPath: "\(directory)/nginx.out", port: nginxPort)
        defer { nginx.stop() }
        let relayConfig = """
            { listeners: [ { name: "front", listen: "127.0.0.1:0", backend: "web", accept_proxy: true } ],
              backends: { web: { servers: ["127.0.0.1:\(nginxPort)"], send_proxy: "v1" } } }
            """
        try await withRelay(relayConfig) { relay in
            let relayPort = try relay.address("front").port
            let haproxyPort = try Self.freePort()
            let haproxyConfig = """
                global
                    maxconn 100
                defaults
                    mode tcp
                    timeout connect 5s
                    timeout client 10s
                    timeout server 10s
                listen edge
                    bind 127.0.0.1:\(haproxyPort)
                    server relayd 127.0.0.1:\(relayPort) send-proxy-v2
                """
            try (haproxyConfig + "\n").write(toFile: "\(directory)/haproxy.cfg", atomically: true, encoding: .utf8)
            let haproxy = try await External("haproxy", ["-db", "-f", "\(directory)/haproxy.cfg"],
                                             logPath: "\(directory)/haproxy.out", port: haproxyPort)
            defer { haproxy.stop() }
            #expect(try Self.curl(haproxyPort) == "nginx-ok\n")
            try await eventually("nginx's access line") {
                External.read("\(directory)/nginx-access.log").contains("proxy_protocol_addr=127.0.0.9")
            }
            let listener = try #require(relay.server.tcpListeners["front"])
            #expect(listener.stats.proxyHeaders.value >= 1)
        }
    }

    @Test(.enabled(if: available, missing))
    func relaydV2_haproxyAcceptProxy_logsTheClientAddress() async throws {
        let directory = temporaryPath("relayd-proxy-interop")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let haproxyPort = try Self.freePort()
        let haproxyConfig = """
            global
                maxconn 100
            defaults
                mode http
                timeout connect 5s
                timeout client 10s
                timeout server 10s
            frontend proxied
                bind 127.0.0.1:\(haproxyPort) accept-proxy
                log stdout format raw local0
                log-format "client=%ci uid=%[fc_pp_unique_id]"
                http-request return status 200 content-type text/plain string "haproxy-ok"
            """
        try (haproxyConfig + "\n").write(toFile: "\(directory)/haproxy.cfg", atomically: true, encoding: .utf8)
        // HAProxy's own wait for its port sends no header: accept-proxy drops that connection, which is fine.
        let haproxy = try await External("haproxy", ["-db", "-f", "\(directory)/haproxy.cfg"],
                                         logPath: "\(directory)/haproxy.out", port: haproxyPort)
        defer { haproxy.stop() }
        let relayConfig = """
            { listeners: [ { name: "front", listen: "127.0.0.1:0", backend: "edge" } ],
              backends: { edge: { servers: ["127.0.0.1:\(haproxyPort)"], send_proxy: "v2",
                                  proxy_v2_options: ["crc32c", "unique_id"], probe: { send_proxy: true } } } }
            """
        try await withRelay(relayConfig) { relay in
            try await relay.waitForActiveServers("edge")
            #expect(try Self.curl(try relay.address("front").port) == "haproxy-ok")
            // HAProxy verifies the CRC32C TLV (a wrong one closes the connection: curl would have failed) and logs
            // the unique id it carried.
            try await eventually("HAProxy's log line") {
                External.read("\(directory)/haproxy.out").contains("client=127.0.0.9 uid=")
            }
            let line = External.read("\(directory)/haproxy.out").split(separator: "\n")
                .first { $0.contains("client=127.0.0.9") } ?? ""
            let uid = line.split(separator: "uid=").last.map(String.init) ?? ""
            #expect(uid.count == 32 && uid.allSatisfy(\.isHexDigit), "\(line)")
        }
    }
}
