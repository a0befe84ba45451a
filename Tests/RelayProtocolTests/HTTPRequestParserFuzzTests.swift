import Testing
import TestSupport
@testable import RelayProtocol

/// Feeds the parser tens of thousands of deterministic malformed requests and checks that it never traps, that
/// every answer is well-formed, and that it answers the same bytes the same way, a prefix included.
@Suite(.computeBound) struct HTTPRequestParserFuzzTests {
    static let seeds: [String] = [
        "GET /status HTTP/1.1\r\nHost: admin\r\nAccept: */*\r\n\r\n",
        "POST /backends/web/1.2.3.4:80/drain?force=1&x=a+b HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"
            + "{\"a\": true}",
        "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n",
        "GET /a%2Fb/%C3%A9 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "\r\nOPTIONS * HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n",
        "PUT /p HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    ]

    static let insertions: [[UInt8]] = [
        [0x0D], [0x0A], [0x00], [0xFF], [0x20], [0x09], [0x3A], [0x25], [0x2F], [0x3F], [0x2C], [0x3B],
        Array("\r\n".utf8), Array("\r\n\r\n".utf8), Array("\n\n".utf8), Array("99999999999999999999999".utf8),
        Array("18446744073709551616".utf8), Array("-1".utf8), Array("FFFFFFFFFFFFFFFF".utf8), Array("%".utf8),
        Array("%0".utf8), Array("%00".utf8), Array("%zz".utf8), Array("\r\nContent-Length: 5".utf8),
        Array("\r\nTransfer-Encoding: chunked".utf8), Array("\r\nHost: x".utf8), Array("\r\n folded".utf8),
        Array("HTTP/2.0".utf8), Array("http/1.1".utf8), Array("0\r\n\r\n".utf8),
    ]

    /// A valid request changed by one to four random edits, or (one time in ten) random bytes.
    static func malformedRequest(_ random: inout HTTPFuzzRandom) -> [UInt8] {
        if random.chance(10) {
            return (0..<random.below(300)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        var bytes = Array(random.pick(seeds).utf8)
        for _ in 0..<(1 + random.below(4)) {
            let at = random.below(bytes.count + 1)
            switch random.below(9) {
            case 0 where at < bytes.count:
                bytes[at] ^= UInt8(1) << UInt8(random.below(8))
            case 1 where at < bytes.count:
                bytes[at] = UInt8(truncatingIfNeeded: random.next())
            case 2:
                bytes.insert(contentsOf: random.pick(insertions), at: at)
            case 3:
                bytes.removeSubrange(at..<min(bytes.count, at + 1 + random.below(8)))
            case 4:
                bytes.removeSubrange(at...)
            case 5:
                let end = min(bytes.count, at + random.below(40))
                bytes.insert(contentsOf: bytes[at..<end], at: at)
            case 6 where random.chance(5):
                // Just past the 8 KiB request-line limit, or past the 16 KiB head limit one time in four.
                let run = random.pick([UInt8(ascii: "a"), UInt8(ascii: "9"), UInt8(ascii: "%"), 0x20, 0x0D])
                let length = random.chance(25) ? 16_400 : 8_200 + random.below(400)
                bytes.insert(contentsOf: [UInt8](repeating: run, count: length), at: at)
            case 7:
                bytes.insert(contentsOf: Array(random.pick(seeds).utf8), at: at)
            default:
                if at + 1 < bytes.count { bytes.swapAt(at, at + 1) }
            }
        }
        return bytes
    }

    /// What is wrong with `result` for `bytes`, or nil when it is a possible answer.
    static func problem(with result: HTTPParseResult, for bytes: [UInt8]) -> String? {
        switch result {
        case .needMore:
            return nil
        case .request(_, let consumed):
            return consumed > 0 && consumed <= bytes.count ? nil : "consumed \(consumed) of \(bytes.count)"
        case .invalid(let error):
            let statuses: Set = [400, 413, 414, 431, 501, 505]
            return statuses.contains(error.status) && !error.reason.isEmpty ? nil : "bad error \(error)"
        }
    }

    @Test func malformedRequestsGetWellFormedRepeatableAnswers() {
        let parser = HTTPRequestParser()
        var random = HTTPFuzzRandom(seed: 0x5EED_0F_4774)
        var failures: [String] = []
        var tally: [String: Int] = [:]
        for index in 0..<20_000 {
            let bytes = Self.malformedRequest(&random)
            let result = parser.parse(bytes)
            if let problem = Self.problem(with: result, for: bytes) { failures.append("case \(index): \(problem)") }
            if parser.parse(bytes) != result { failures.append("case \(index): a second parse differs") }
            switch result {
            case .needMore: tally["needMore", default: 0] += 1
            case .request: tally["request", default: 0] += 1
            case .invalid(let error): tally["\(error.status)", default: 0] += 1
            }
            // Answers are consistent with every prefix: nothing a prefix decides changes with more bytes.
            let prefix = bytes[..<random.below(bytes.count + 1)]
            switch parser.parse(prefix) {
            case .needMore:
                break
            case .invalid(let error):
                if result.errorStatus != error.status { failures.append("case \(index): prefix refused, whole not") }
            case .request(let request, let consumed):
                if result != .request(request, consumed: consumed) {
                    failures.append("case \(index): prefix parsed differently from the whole")
                }
            }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures)")
        // The mutations must reach past the first checks: every kind of answer occurs.
        for kind in ["needMore", "request", "400", "413", "414", "431", "501", "505"] {
            #expect(tally[kind, default: 0] > 0, "no \(kind) among \(tally)")
        }
    }

    @Test func seedsParseOneAfterAnotherAsAPipeline() throws {
        let parser = HTTPRequestParser()
        let stream = Array(Self.seeds.joined().utf8)
        var position = 0
        var requests = 0
        while position < stream.count {
            let result = parser.parse(stream[position...])
            let consumed = try #require(result.consumed, "at \(position): \(result)")
            position += consumed
            requests += 1
        }
        #expect(requests == Self.seeds.count + 1)
    }
}
