import Foundation
import RelayCore
import RelayIO
import RelayProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

let connectHelp = """
    Usage: relayd connect HOST:PORT --key-file FILE [--client-id ID]
                          [--redundancy off|adaptive|always]

    Opens a reliable-UDP session with the reliable-udp listener at HOST:PORT:
    each line of standard input is sent as one message, and each message
    received is printed as one line. At the end of input relayd waits until
    the server has acknowledged everything sent, and for its last replies
    (until none has come for half a second, or four round trips; 5 s at most),
    closes the session and exits 0.

    Options:
      --key-file FILE     a keys file (`CLIENT_ID HEX_KEY` lines, as `relayd
                          keygen` prints them) holding this client's key
      --client-id ID      which client of the file to be; needed when the
                          file lists more than one
      --redundancy MODE   send each packet twice: never (off, the default),
                          while over 0.5% of the last 256 packets were lost
                          (adaptive), or always; a lost packet then costs no
                          retransmission round trip, for twice the bandwidth
      -h, --help          show this help

    Exit codes: 0 everything sent was acknowledged, 1 the server refused
    ("refused: bad key for client 'ID'", "refused: server full", "refused:
    rate limited"), did not answer within 5 s, or the session failed, 2 on a
    usage error or an unreadable key file.

    """

let keygenHelp = """
    Usage: relayd keygen [--client-id ID]

    Prints `ID KEY`: a fresh 32-byte key in hex from the system's random
    source, in the format of a reliable-udp listener's `keys_file`. Add the
    line to the listener's keys file and give it to the client (`relayd
    connect --key-file`). ID defaults to "client".

    """

/// `relayd connect` and `relayd keygen`: the client side of reliable UDP.
enum ConnectCommand {
    static func keygen(_ arguments: ArraySlice<String>) -> ExitCode {
        var clientID = "client"
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help":
                print(keygenHelp, terminator: "")
                return .ok
            case "--client-id":
                guard let value = rest.popFirst() else { return usage("--client-id needs an id", keygenHelp) }
                clientID = value
            default:
                return usage("unknown option `\(argument)` for `relayd keygen`", keygenHelp)
            }
        }
        guard ReliableClientID.isValid(clientID) else {
            return usage("invalid client id '\(clientID)': 1 to 64 of A-Z a-z 0-9 . _ @ -", keygenHelp)
        }
        print(KeysFile.line(clientID: clientID, key: SecureRandom.bytes(count: ReliableWire.keySize)))
        return .ok
    }

    static func connect(_ arguments: ArraySlice<String>) async -> ExitCode {
        var target: String?
        var keyFile: String?
        var clientID: String?
        var redundancy = ReliableRedundancyMode.off
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help":
                print(connectHelp, terminator: "")
                return .ok
            case "--redundancy":
                guard let value = rest.popFirst(), let mode = ReliableRedundancyMode(rawValue: value) else {
                    return usage("--redundancy needs off, adaptive or always", connectHelp)
                }
                redundancy = mode
            case "--key-file":
                guard let value = rest.popFirst() else { return usage("--key-file needs a file path", connectHelp) }
                keyFile = value
            case "--client-id":
                guard let value = rest.popFirst() else { return usage("--client-id needs an id", connectHelp) }
                clientID = value
            default:
                if argument.hasPrefix("-") || target != nil {
                    return usage("unknown argument `\(argument)` for `relayd connect`", connectHelp)
                }
                target = argument
            }
        }
        guard let target else { return usage("connect needs HOST:PORT", connectHelp) }
        guard let keyFile else { return usage("connect needs --key-file FILE", connectHelp) }
        guard let endpoint = try? Endpoint(parsing: target) else {
            return usage("`\(target)` is not HOST:PORT (such as 127.0.0.1:7000 or [::1]:7000)", connectHelp)
        }
        let entry: KeysFile.Entry
        switch readKey(keyFile, clientID: clientID) {
        case .success(let found): entry = found
        case .failure(let message):
            printError("relayd: \(message)")
            return .usage
        }
        signal(SIGPIPE, SIG_IGN)
        let loops: EventLoopGroup
        let server: SocketAddress
        do {
            loops = try EventLoopGroup(loops: 1, bufferSize: 64 * 1024)
        } catch {
            printError("relayd: cannot start an event loop: \(error)")
            return .failure
        }
        defer { loops.shutdown() }
        do {
            guard let first = try await HostResolver.resolve(endpoint.host, port: endpoint.port).first else {
                printError("relayd: \(endpoint.host) has no address")
                return .failure
            }
            server = first
        } catch {
            printError("relayd: cannot resolve \(endpoint.host): \(error)")
            return .failure
        }
        let configuration = ReliableUDPClientConfiguration(
            clientID: entry.clientID, key: entry.key,
            session: ReliableSessionConfiguration(redundancy: redundancy.redundancy(lossThresholdPercent: 0.5)))
        let lines = StandardInputLines()
        do {
            try await ReliableUDPClient.connect(to: server, configuration: configuration, on: loops.next()) { client in
                try await run(client, lines: lines)
            }
            return .ok
        } catch let error as ReliableUDPClientError {
            if case .noAnswer(_, let after) = error {
                printError("relayd: no answer from \(target) after \(after.components.seconds) s")
            } else {
                printError("relayd: \(error)")
            }
            return .failure
        } catch {
            printError("relayd: session with \(target) failed: \(error)")
            return .failure
        }
    }

    /// Sends stdin's lines and prints what comes back until stdin ends and everything is acknowledged, then waits
    /// for late replies until the server has been quiet for a while (4 round trips, at least 200 ms, at most 5 s).
    private static func run(_ client: ReliableUDPClient, lines: StandardInputLines) async throws {
        let lastArrival = LastArrival()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                while let message = try await client.receive() {
                    lastArrival.time.store(EventLoop.now(), ordering: .relaxed)
                    FileHandle.standardOutput.write(Data(message.bytes + [0x0A]))
                }
            }
            while let line = await lines.next() {
                try await client.send(Array(line.utf8))
            }
            try await client.flush(timeout: .seconds(30))
            // The last replies: wait until nothing has arrived for `quiet`, counted from the flush at the earliest
            // (replies to the last lines leave the server after their acknowledgements), 5 s at most.
            let quiet = min(5_000_000_000, max(500_000_000, 4 * client.smoothedRTT))
            let flushed = EventLoop.now()
            while EventLoop.now() - max(flushed, lastArrival.time.load(ordering: .relaxed)) < quiet,
                EventLoop.now() - flushed < 5_000_000_000
            {
                try await Task.sleep(for: .milliseconds(20))
            }
            try await client.finish(timeout: .seconds(30))
            tasks.cancelAll()
        }
    }

    /// When the last message arrived (monotonic ns).
    private final class LastArrival: Sendable {
        let time = Atomic<UInt64>(EventLoop.now())
    }

    /// The entry of `clientID` in the keys file at `path`, or the only one when no id is given.
    private static func readKey(_ path: String, clientID: String?) -> Result<KeysFile.Entry, KeyFileProblem> {
        guard let data = FileManager.default.contents(atPath: path) else {
            return .failure(KeyFileProblem("cannot read the key file \(path)"))
        }
        let file: KeysFile
        do {
            file = try KeysFile.parse(String(decoding: data, as: UTF8.self), file: path)
        } catch {
            return .failure(KeyFileProblem("\(error)"))
        }
        if let clientID {
            guard let entry = file.entries.first(where: { $0.clientID == clientID }) else {
                return .failure(KeyFileProblem("\(path) has no key for client '\(clientID)'"))
            }
            return .success(entry)
        }
        guard file.entries.count == 1, let entry = file.entries.first else {
            return .failure(KeyFileProblem(file.entries.isEmpty
                ? "\(path) holds no key; `relayd keygen` makes one"
                : "\(path) lists \(file.entries.count) clients; choose one with --client-id"))
        }
        return .success(entry)
    }

    private static func usage(_ message: String, _ help: String) -> ExitCode {
        printError("relayd: \(message)\n\n\(help)")
        return .usage
    }
}
