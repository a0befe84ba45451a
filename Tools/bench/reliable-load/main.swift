// reliable-load: the reliable-UDP side of Tools/bench/reliable.
//
//   reliable-load send HOST:PORT --key-file FILE [--client-id ID] [--rate R] [--seconds S] [--size B]
//                     [--redundancy off|adaptive|always] [--redundancy-threshold PERCENT]
//       One session; B-byte messages, R a second on a fixed schedule (0: as fast as the send window takes
//       them), each starting with its sequence number and CLOCK_MONOTONIC send time in nanoseconds (64-bit
//       little-endian, as Tools/bench/stamp.c reads them at the sink); then waits until everything is
//       acknowledged and closes.
//   reliable-load handshakes HOST:PORT --key-file FILE [--client-id ID] [--seconds S] [--concurrency C]
//       C clients at once, each opening and closing sessions in a loop: handshakes per second.
//
// Results: one line of key=value pairs on stdout.
import Foundation
import RelayCore
import RelayIO
import RelayProtocol

struct Options {
    var command = ""
    var server = ""
    var keyFile = ""
    var clientID: String?
    var rate = 1000
    var seconds = 10
    var size = 100
    var concurrency = 8
    var redundancy = ReliableRedundancyMode.off
    var redundancyThreshold = 0.5
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("reliable-load: \(message)\n".utf8))
    exit(2)
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    guard arguments.count >= 2 else {
        fail("usage: reliable-load send|handshakes HOST:PORT --key-file FILE [options] (see the top of main.swift)")
    }
    options.command = arguments[0]
    options.server = arguments[1]
    var index = 2
    func value() -> String {
        guard index + 1 < arguments.count else { fail("\(arguments[index]) needs a value") }
        index += 1
        return arguments[index]
    }
    func number(_ name: String, _ range: ClosedRange<Int>) -> Int {
        let text = value()
        guard let parsed = Int(text), range.contains(parsed) else { fail("\(name) must be in \(range), not '\(text)'") }
        return parsed
    }
    while index < arguments.count {
        switch arguments[index] {
        case "--key-file": options.keyFile = value()
        case "--client-id": options.clientID = value()
        case "--rate": options.rate = number("--rate", 0...10_000_000)
        case "--seconds": options.seconds = number("--seconds", 1...86_400)
        case "--size": options.size = number("--size", 16...65_507)
        case "--concurrency": options.concurrency = number("--concurrency", 1...1_000)
        case "--redundancy":
            guard let mode = ReliableRedundancyMode(rawValue: value()) else { fail("--redundancy: off|adaptive|always") }
            options.redundancy = mode
        case "--redundancy-threshold":
            let text = value()
            guard let percent = Double(text), percent > 0, percent <= 100 else {
                fail("--redundancy-threshold must be a percentage above 0, not '\(text)'")
            }
            options.redundancyThreshold = percent
        default: fail("unknown option \(arguments[index])")
        }
        index += 1
    }
    guard !options.keyFile.isEmpty else { fail("--key-file is required") }
    return options
}

func configuration(_ options: Options) -> ReliableUDPClientConfiguration {
    let text: String
    do { text = try String(contentsOfFile: options.keyFile, encoding: .utf8) } catch {
        fail("cannot read \(options.keyFile): \(error.localizedDescription)")
    }
    let keys: KeysFile
    do { keys = try KeysFile.parse(text, file: options.keyFile) } catch { fail("\(error)") }
    let entry = options.clientID.map { id in keys.entries.first { $0.clientID == id } } ?? keys.entries.first
    guard let entry else { fail("no key for \(options.clientID ?? "any client") in \(options.keyFile)") }
    return ReliableUDPClientConfiguration(
        clientID: entry.clientID, key: entry.key,
        session: ReliableSessionConfiguration(redundancy: options.redundancy.redundancy(lossThresholdPercent: options.redundancyThreshold)))
}

func put64(_ value: UInt64, into bytes: inout [UInt8], at offset: Int) {
    for shift in 0..<8 { bytes[offset + shift] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(shift))) }
}

func send(_ options: Options, server: SocketAddress, loop: EventLoop) async throws {
    let config = configuration(options)
    let size = options.size
    let rate = options.rate
    let deadline = EventLoop.now() + UInt64(options.seconds) * 1_000_000_000
    let (sent, elapsed, stats, rtt) = try await ReliableUDPClient.connect(to: server, configuration: config, on: loop) {
        client in
        var message = [UInt8](repeating: 0x5a, count: size)
        var sequence: UInt64 = 0
        let start = EventLoop.now()
        let interval: UInt64 = rate > 0 ? 1_000_000_000 / UInt64(rate) : 0
        while EventLoop.now() < deadline {
            if interval > 0 {
                let due = start + sequence * interval
                let now = EventLoop.now()
                if due > now { try await Task.sleep(for: .nanoseconds(Int64(due - now))) }
            }
            put64(sequence, into: &message, at: 0)
            put64(EventLoop.now(), into: &message, at: 8)
            try await client.send(message)
            sequence += 1
        }
        let elapsed = Double(EventLoop.now() - start) / 1e9
        try await client.finish(timeout: .seconds(30))
        return (sequence, elapsed, client.stats, client.smoothedRTT)
    }
    print("sent=\(sent) seconds=\(String(format: "%.2f", elapsed)) rate=\(Int(Double(sent) / elapsed))",
          "packets_sent=\(stats.packetsSent) retransmitted=\(stats.retransmitted)",
          "srtt_us=\(rtt / 1000)")
}

func handshakes(_ options: Options, server: SocketAddress, loops: EventLoopGroup) async throws {
    let config = configuration(options)
    let deadline = EventLoop.now() + UInt64(options.seconds) * 1_000_000_000
    let start = EventLoop.now()
    let (done, failed) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
        for _ in 0..<options.concurrency {
            let loop = loops.next()
            group.addTask {
                var done = 0
                var failed = 0
                while EventLoop.now() < deadline {
                    do {
                        try await ReliableUDPClient.connect(to: server, configuration: config, on: loop) { _ in }
                        done += 1
                    } catch {
                        failed += 1
                    }
                }
                return (done, failed)
            }
        }
        var total = (0, 0)
        for try await (done, failed) in group { total = (total.0 + done, total.1 + failed) }
        return total
    }
    let elapsed = Double(EventLoop.now() - start) / 1e9
    print("handshakes=\(done) failed=\(failed) seconds=\(String(format: "%.2f", elapsed))",
          "rate=\(Int(Double(done) / elapsed))")
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let server: SocketAddress
do { server = try SocketAddress(parsing: options.server) } catch { fail("bad address \(options.server): \(error)") }
let loops: EventLoopGroup
do { loops = try EventLoopGroup(loops: 2) } catch { fail("cannot start event loops: \(error)") }
do {
    switch options.command {
    case "send": try await send(options, server: server, loop: loops.next())
    case "handshakes": try await handshakes(options, server: server, loops: loops)
    default: fail("unknown command \(options.command): send or handshakes")
    }
} catch {
    fail("\(error)")
}
