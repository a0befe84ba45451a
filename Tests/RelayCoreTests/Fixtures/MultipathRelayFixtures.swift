import Foundation
import RelayIO
import RelayProtocol
import Testing
import TestSupport
@testable import RelayCore

/// Configs, keys and a numbered echo stream for the multipath listener tests.
enum MultipathRelayFixtures {
    static let aliceKey = (0..<32).map { UInt8(0x40 + $0) }
    static let bobKey = (0..<32).map { UInt8(0x80 + $0) }

    /// A keys file with alice's and bob's keys; the caller removes it.
    static func keysFile() throws -> String {
        try temporaryFile("""
            # multipath clients
            alice \(KeysFile.hex(aliceKey))
            bob \(KeysFile.hex(bobKey))
            """, suffix: ".keys")
    }

    /// A relay with one multipath-server listener on loopback in front of `backend`.
    static func serverConfig(keysFile: String, backend: SocketAddress, extra: String = "") -> String {
        """
        {
          listeners: [ { name: "mp-server", protocol: "multipath-server", listen: "127.0.0.1:0", backend: "app",
                         keys_file: "\(keysFile)" \(extra) } ],
          backends: { app: { servers: ["\(backend)"], probe: { kind: "udp", interval: "200ms", timeout: "300ms" },
                             selector: { evaluation_interval: "200ms", debounce: "0s" } } },
          drain_timeout: "1s", io: { loops: 1 }, log: { level: "debug" },
        }
        """
    }

    /// One multipath-client listener's object, with links to `links` (name, remote text). It listens on a loopback
    /// address no other test uses: a port of 127.0.0.1 it gets may be one another test keeps sending to after giving
    /// it up, and every stranger's datagram would open a flow of this client.
    static func clientListener(name: String = "mp-client", clientID: String = "alice", keysFile: String,
                               links: [(String, String)], listen: String = "127.0.0.71:0", extra: String = "")
        -> String
    {
        let list = links.map { "{ name: \"\($0.0)\", remote: \"\($0.1)\" }" }.joined(separator: ", ")
        return """
            { name: "\(name)", protocol: "multipath-client", listen: "\(listen)", client_id: "\(clientID)",
              key_file: "\(keysFile)", links: [\(list)] \(extra) }
            """
    }

    /// A relay running the client listeners given, with its admin API on a loopback port; `accessFile` turns the
    /// access log on.
    static func clientConfig(_ listeners: String..., accessFile: String? = nil) -> String {
        let access = accessFile.map { #", access: true, access_file: "\#($0)""# } ?? ""
        return """
            { listeners: [ \(listeners.joined(separator: ", ")) ], drain_timeout: "1s", io: { loops: 1 },
              log: { level: "debug" \(access) }, admin: { listen: "127.0.0.1:0" } }
            """
    }
}

/// A local application of a multipath client: sends numbered datagrams at a steady rate through the client
/// listener and counts the distinct echoes that come back.
final class MultipathEchoStream: Sendable {
    let socket: UDPSocket
    private let answered = SanitizerVisibleMutex<Set<UInt32>>([])
    private let foreignSamples = SanitizerVisibleMutex<[String]>([])
    /// The payload's first bytes, so two applications can tell their echoes apart.
    let tag: [UInt8]

    init(to listener: SocketAddress, tag: String = "app") throws {
        socket = try UDPSocket.connect(to: listener, on: clientLoops.next())
        self.tag = Array(tag.utf8)
    }

    /// The first few foreign echoes (their first 24 bytes, printable ones as they are), for a failure report.
    var foreignEchoes: [String] { foreignSamples.withLock { $0 } }

    /// Distinct datagrams answered so far.
    var answeredCount: Int { answered.withLock { $0.count } }

    /// How many of the datagrams numbered in `range` (from 0) were answered.
    func answered(in range: Range<UInt32>) -> Int {
        answered.withLock { set in range.filter { set.contains($0) }.count }
    }

    /// Sends `count` datagrams of `size` bytes, `gap` apart, calling `afterEach` with the number sent; then
    /// waits up to `grace` for the last echoes. Returns the numbers answered. Echoes that do not start with `tag`
    /// are recorded as foreign (a crossed flow).
    func run(count: Int, gap: Duration, size: Int = 64, grace: Duration = .milliseconds(600),
             afterEach: @Sendable (Int) async throws -> Void = { _ in }) async throws -> (answered: Int, foreign: Int) {
        let foreign = CountBox()
        let tag = self.tag
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask(executorPreference: socket.loop) { [self] in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 1)
                defer { buffer.deallocate() }
                while true {
                    guard let (received, _, _) = try? await self.socket.receive(into: buffer) else { return }
                    let bytes = Array(buffer[0..<received])
                    guard bytes.count >= tag.count + 4, Array(bytes.prefix(tag.count)) == tag else {
                        foreign.increment()
                        let sample = bytes.prefix(24).map { (0x20..<0x7F).contains($0) ? String(UnicodeScalar($0))
                                                                                        : "\\x" + String($0, radix: 16) }
                        self.foreignSamples.withLock { if $0.count < 5 { $0.append("\(bytes.count) B: " + sample.joined()) } }
                        continue
                    }
                    let number = bytes[tag.count..<(tag.count + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
                    _ = self.answered.withLock { $0.insert(number) }
                }
            }
            // Paced by a sleep after each datagram, never catching up: a test process the machine starves sends
            // later, not in a burst that would overflow every socket buffer on the way.
            for number in 0..<count {
                var payload = tag + withUnsafeBytes(of: UInt32(number).bigEndian, Array.init)
                payload += [UInt8](repeating: 0x5A, count: max(0, size - payload.count))
                try await socket.send(payload)
                try await afterEach(number + 1)
                try await Task.sleep(for: gap)
            }
            try await Task.sleep(for: grace)
            socket.abort()
            try await group.waitForAll()
        }
        return (answeredCount, foreign.count)
    }

    func close() { socket.close() }
}
