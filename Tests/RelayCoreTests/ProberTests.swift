import RelayIO
import Testing
import TestSupport
@testable import RelayCore

@Suite struct ProberTests {
    let loop = clientLoops.loops[0]

    @Test func tcpProbeMeasuresConnectTime() async throws {
        let backend = try TestBackend.echo()
        defer { Task { await backend.stop() } }
        let result = await Prober.probe(backend.address, kind: .tcp, timeout: .seconds(1), on: loop)
        #expect(result.success)
        #expect(try #require(result.latency) > .zero)
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
        let slow = try TestBackend.http(status: 200, delay: .milliseconds(150))
        let failing = try TestBackend.http(status: 503)
        defer { Task { await slow.stop(); await failing.stop() } }
        let kind = ProbeParameters.Kind.http(path: "/healthz", expectStatus: 200...399)
        let ok = await Prober.probe(slow.address, kind: kind, timeout: .seconds(2), on: loop)
        #expect(ok.success)
        #expect(try #require(ok.latency) >= .milliseconds(140))
        let bad = await Prober.probe(failing.address, kind: kind, timeout: .seconds(2), on: loop)
        #expect(!bad.success)
        #expect(bad.error == "HTTP status 503, expected 200-399")
        let late = await Prober.probe(slow.address, kind: kind, timeout: .milliseconds(50), on: loop)
        #expect(!late.success)
    }

    @Test func udpProbeNeedsAReply() async throws {
        let echo = try UDPEchoBackend()
        let ok = await Prober.probe(echo.address, kind: .udp(payload: Array("ping".utf8)), timeout: .seconds(1), on: loop)
        #expect(ok.success)
        let address = echo.address
        await echo.stop()
        // Nothing listens any more: the kernel answers with port unreachable, seen as ECONNREFUSED.
        let dead = await Prober.probe(address, kind: .udp(payload: Array("ping".utf8)), timeout: .milliseconds(300), on: loop)
        #expect(!dead.success)
    }

    @Test(arguments: [("HTTP/1.1 200 OK\r\n", 200), ("HTTP/1.0 404 Not Found\r\n", 404), ("SSH-2.0-x\r\n", nil),
                      ("HTTP/1.1 2000 x\r\n", nil), ("HTTP/1.1 99 x\r\n", nil)] as [(String, Int?)])
    func parsesStatusLine(line: String, status: Int?) {
        #expect(Prober.parseStatus(Array(line.utf8)) == status)
    }
}
