import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite struct ProberTests {
    let loop = clientLoops.loops[0]

    @Test func tcpProbeMeasuresConnectTime() async throws {
        try await withTestServer(TestBackend.echo()) { backend in
            let result = await Prober.probe(backend.address, kind: .tcp, timeout: .seconds(10), on: loop)
            #expect(result.success)
            let latency = try #require(result.latency)
            #expect(latency > .zero)
        }
    }

    @Test func tcpProbeOfDeadServerFailsWithReason() async throws {
        let result = await Prober.probe(try deadAddress(), kind: .tcp, timeout: .seconds(1), on: loop)
        #expect(!result.success)
        #expect(result.error?.contains("Connection refused") == true)
    }

    @Test func tcpProbeTimesOutAgainstBlackHole() async throws {
        let hole = try await BlackHole()
        let result = await Prober.probe(hole.address, kind: .tcp, timeout: .milliseconds(100), on: loop)
        #expect(!result.success)
        #expect(result.error?.contains("no answer within 100ms") == true)
    }

    @Test func httpProbeChecksStatusAndMeasuresTimeToFirstByte() async throws {
        try await withTestServers { servers in
            let slow = servers.add(try TestBackend.http(status: 200, delay: .milliseconds(150)))
            let failing = servers.add(try TestBackend.http(status: 503))
            let kind = ProbeParameters.Kind.http(path: "/healthz", expectStatus: 200...399)
            // Time-outs far beyond the 150 ms the server takes: on a loaded machine the probe's own steps can take
            // seconds to be scheduled.
            let ok = await Prober.probe(slow.address, kind: kind, timeout: .seconds(10), on: loop)
            #expect(ok.success)
            let latency = try #require(ok.latency)
            #expect(latency >= .milliseconds(140))
            let bad = await Prober.probe(failing.address, kind: kind, timeout: .seconds(10), on: loop)
            #expect(!bad.success)
            #expect(bad.error == "HTTP status 503, expected 200-399")
            let late = await Prober.probe(slow.address, kind: kind, timeout: .milliseconds(50), on: loop)
            #expect(!late.success)
        }
    }

    @Test func udpProbeNeedsAReply() async throws {
        try await withTestServer(UDPEchoBackend()) { echo in
            let ok = await Prober.probe(echo.address, kind: .udp(payload: Array("ping".utf8)), timeout: .seconds(10),
                                        on: loop)
            #expect(ok.success)
            // A dead server: a reservation holds a port (so no test running alongside can take it) and draws the
            // answer a closed port gets, port unreachable, seen as ECONNREFUSED. (Taking the echo's own port after
            // stopping it raced with tests binding port 0 in that instant.)
            let reservation = try PortReservation(.udp, try SocketAddress(ip: "127.0.0.1", port: 0))
            defer { reservation.release() }
            let dead = await Prober.probe(reservation.address, kind: .udp(payload: Array("ping".utf8)),
                                          timeout: .milliseconds(300), on: loop)
            #expect(!dead.success)
        }
    }

    @Test(arguments: [("HTTP/1.1 200 OK\r\n", 200), ("HTTP/1.0 404 Not Found\r\n", 404), ("SSH-2.0-x\r\n", nil),
                      ("HTTP/1.1 2000 x\r\n", nil), ("HTTP/1.1 99 x\r\n", nil)] as [(String, Int?)])
    func parsesStatusLine(line: String, status: Int?) {
        #expect(Prober.parseStatus(Array(line.utf8)) == status)
    }
}
