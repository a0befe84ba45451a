import Foundation
import Testing
import TestSupport
import RelayIO
@testable import RelayCore

#if canImport(Glibc)
import Glibc
#endif

/// SNI routing against real TLS: two `openssl s_server` with different self-signed certificates, and `openssl
/// s_client -servername` through relayd reaching the right one by exact name and by wildcard, and the fallback for
/// an unknown name. relayd never terminates TLS: the handshake is the client's with the server it was routed to.
@Suite(.serialized) struct RoutingInteropTests {
    static var openssl: String? {
        ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test(.enabled(if: openssl != nil, "openssl is not installed: apt-get install openssl"))
    func sClientReachesTheServerItsNameRoutesTo() async throws {
        let openssl = Self.openssl!
        let directory = temporaryPath("relayd-sni")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var servers: [ChildProcess] = []
        defer {
            for server in servers {
                server.signal(SIGTERM)
                _ = server.waitUntilExit()
            }
        }
        var ports: [String: UInt16] = [:]
        for name in ["api", "other"] {
            let made = try ChildProcess.run(openssl, [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=\(name)", "-days", "1",
                "-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).crt",
            ])
            #expect(made.termination == .exited(0), "\(String(decoding: made.error, as: UTF8.self))")
            let reservation = try PortReservation(.tcp)
            let port = reservation.address.port
            reservation.release()
            servers.append(try ChildProcess(openssl, [
                "s_server", "-accept", "127.0.0.1:\(port)", "-cert", "\(directory)/\(name).crt",
                "-key", "\(directory)/\(name).key", "-quiet",
            ], output: .file("\(directory)/\(name).out"), error: .file("\(directory)/\(name).out")))
            ports[name] = port
            let address = try SocketAddress(ip: "127.0.0.1", port: port)
            try await eventually("s_server \(name) to listen") {
                (try? await TestClient.connect(address, timeout: .seconds(1))).map { $0.close(); return true } ?? false
            }
        }
        let config = """
            { listeners: [ { name: "tls", listen: "127.0.0.1:0", backend: "other",
                             routes: [ { name: "api", sni: ["api.example.com", "*.internal.example"], backend: "api" } ] } ],
              backends: { api: { servers: ["127.0.0.1:\(ports["api"]!)"] }, other: { servers: ["127.0.0.1:\(ports["other"]!)"] } } }
            """
        try await withRelay(config) { relay in
            let front = try relay.address("tls")
            func certificate(for name: String) throws -> String {
                let result = try ChildProcess.run(openssl, ["s_client", "-connect", "\(front)", "-servername", name],
                                                  input: Array("\n".utf8), timeout: .seconds(20))
                let text = String(decoding: result.output + result.error, as: UTF8.self)
                if text.contains("CN = api") || text.contains("CN=api") { return "api" }
                if text.contains("CN = other") || text.contains("CN=other") { return "other" }
                return "none: \(text.suffix(600))"
            }
            #expect(try certificate(for: "api.example.com") == "api")
            #expect(try certificate(for: "db.internal.example") == "api")
            #expect(try certificate(for: "www.example.org") == "other")
            let listener = try #require(relay.server.tcpListeners["tls"])
            guard case let .routed(routes) = listener.role else { return }
            let counts = Dictionary(uniqueKeysWithValues: routes.counts.map { ($0.name, $0.connections) })
            #expect(counts == ["api": 2, "default": 1])
        }
    }
}
