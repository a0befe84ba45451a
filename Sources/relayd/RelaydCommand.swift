import Foundation
import RelayCore
import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
enum ExitCode: Int32 {
    case ok = 0
    case failure = 1
    case usage = 2
}

let version = RelaydVersion.current

let mainHelp = """
    relayd \(version) - relays TCP to the best backends it can find

    Usage: relayd <command> [options]

    Commands:
      serve     run the relay (default config: Configurations/relayd.json5)
      check     validate a configuration file and exit
      probe     probe every backend server now and print their scores
      version   print the version
      help      show this help, or `relayd help <command>`

    Run `relayd <command> --help` for a command's options.
    Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.

    """

let serveHelp = """
    Usage: relayd serve [-c FILE]

    Runs the listeners of FILE until SIGINT or SIGTERM, then stops accepting, lets
    established connections finish for up to `drain_timeout`, closes the rest and
    exits 0. A second SIGINT/SIGTERM exits at once.

    Options:
      -c, --config FILE   configuration file (JSON5). Default: the first of
                          ./Configurations/relayd.json5 and the copy shipped
                          beside the binary's package.
      -h, --help          show this help

    """

let checkHelp = """
    Usage: relayd check [-c FILE]

    Validates FILE and prints every problem with the path of the key it concerns.
    Exits 0 when the configuration is valid, 2 otherwise.

    Options:
      -c, --config FILE   configuration file (JSON5), default as for `serve`
      -h, --help          show this help

    """

let probeHelp = """
    Usage: relayd probe [-c FILE] [--json] [--count N]

    Probes every server of every backend group N times (default 3) with the
    group's probe kind (tcp, http or udp) and timeout, scores the results with
    the group's scoring settings, and prints one line per server, best first:
    state, probe latency and jitter, success rate, score, and why it is down.

    Options:
      -c, --config FILE   configuration file (JSON5), default as for `serve`
      --json              print a JSON array of objects instead (keys: backend,
                          server, healthy, state, latency_ms, jitter_ms,
                          success_rate, score, error, probes)
      --count N           probes per server, 1 to 1000 (default 3)
      -h, --help          show this help

    Exit codes: 0 when every group has a healthy server, 1 when some group has
    none, 2 on a usage or configuration error.

    """

let versionHelp = """
    Usage: relayd version

    Prints relayd's version.

    """

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message.hasSuffix("\n") ? message : message + "\n").utf8))
}

/// Options shared by the commands that read a configuration.
struct ConfigOptions {
    var path: String?
    var help = false
    /// `probe` only: JSON output.
    var json = false
    /// `probe` only: probes per server.
    var count = 3

    init(_ arguments: ArraySlice<String>, command: String) throws(UsageError) {
        var rest = arguments
        while let argument = rest.popFirst() {
            switch argument {
            case "-h", "--help":
                help = true
            case "--json" where command == "probe":
                json = true
            case "--count" where command == "probe":
                guard let value = rest.popFirst(), let number = Int(value), (1...1000).contains(number) else {
                    throw UsageError("--count needs a number from 1 to 1000")
                }
                count = number
            case "-c", "--config":
                guard let value = rest.popFirst() else { throw UsageError("\(argument) needs a file path") }
                path = value
            default:
                if argument.hasPrefix("--config=") {
                    path = String(argument.dropFirst("--config=".count))
                } else {
                    throw UsageError("unknown option `\(argument)` for `relayd \(command)`")
                }
            }
        }
    }
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// The configuration to use when none is given: the shipped default.
func defaultConfigPath() -> String? {
    var candidates = ["Configurations/relayd.json5"]
    // A binary built with `swift build` sits in <package>/.build/<config>/relayd.
    let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var directory = executable.deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(directory.appendingPathComponent("Configurations/relayd.json5").path)
        directory = directory.deletingLastPathComponent()
    }
    candidates.append("/etc/relayd/relayd.json5")
    return candidates.first { FileManager.default.fileExists(atPath: $0) }
}

func loadConfig(_ options: ConfigOptions) -> (RelayConfig, String)? {
    guard let path = options.path ?? defaultConfigPath() else {
        printError("relayd: no configuration file given and Configurations/relayd.json5 not found; use -c FILE")
        return nil
    }
    do {
        return (try RelayConfig.load(path: path), path)
    } catch {
        printError("relayd: invalid configuration \(path):\n\(error)")
        return nil
    }
}

/// Raises the soft open-files limit to the hard limit: each relayed connection needs two descriptors.
func raiseOpenFilesLimit(logger: Logger) {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
    if limit.rlim_cur < limit.rlim_max {
        let before = limit.rlim_cur
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            logger.debug("raised open files limit", ["from": before, "to": limit.rlim_max])
        }
    }
}

/// What a signal does once the server exists. Signals are caught from the start of `serve`; one that
/// arrives before the server is built is kept and acted on as soon as it is.
final class SignalRouter: Sendable {
    private let state = Mutex<(server: RelayServer?, logger: Logger?, pendingStop: String?)>((nil, nil, nil))
    private let stops = ManagedAtomicCounter()

    func attach(server: RelayServer, logger: Logger) {
        let pending = state.withLock { state -> String? in
            state.server = server
            state.logger = logger
            return state.pendingStop
        }
        if let pending {
            logger.info("signal received during start-up; shutting down gracefully", ["signal": pending])
            server.shutdown()
        }
    }

    func handle(_ signal: Int32) {
        let name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : signal == SIGHUP ? "SIGHUP" : "\(signal)"
        let (server, logger) = state.withLock { ($0.server, $0.logger) }
        if signal == SIGHUP {
            guard let server, let logger else { return }
            logger.info("SIGHUP received; reloading the config", ["config": server.configPath ?? "-"])
            Task { await server.reload() }
            return
        }
        if stops.increment() > 1 {
            logger?.warn("second signal; exiting at once", ["signal": name])
            exit(ExitCode.failure.rawValue)
        }
        guard let server, let logger else {
            state.withLock { $0.pendingStop = name }
            return
        }
        logger.info("signal received; shutting down gracefully (send again to exit at once)", ["signal": name])
        server.shutdown()
    }
}

func serve(_ arguments: ArraySlice<String>) async -> ExitCode {
    let options: ConfigOptions
    do {
        options = try ConfigOptions(arguments, command: "serve")
    } catch {
        printError("relayd: \(error.message)\n\n\(serveHelp)")
        return .usage
    }
    if options.help {
        print(serveHelp, terminator: "")
        return .ok
    }
    signal(SIGPIPE, SIG_IGN)
    let router = SignalRouter()
    let watcher: SignalWatcher
    do {
        watcher = try SignalWatcher(signals: [SIGINT, SIGTERM, SIGHUP]) { router.handle($0) }
    } catch {
        printError("relayd: cannot install signal handlers: \(error)")
        return .failure
    }
    guard let (config, path) = loadConfig(options) else { return .usage }
    let logger = Logger(level: config.log.level, format: config.log.format)
    raiseOpenFilesLimit(logger: logger)
    let server: RelayServer
    do {
        server = try RelayServer(config: config, configPath: path, logger: logger)
    } catch {
        logger.error("could not start", ["config": path, "error": String(describing: error)])
        return .failure
    }
    router.attach(server: server, logger: logger)
    _ = watcher
    for listener in config.listeners {
        if let address = server.address(of: listener.name) {
            logger.info("listener ready", ["listener": listener.name, "protocol": listener.proto.rawValue,
                                           "address": address])
        }
    }
    do {
        try await server.run()
        return .ok
    } catch {
        logger.error("relayd is exiting after a failure", ["error": String(describing: error)])
        return .failure
    }
}

func check(_ arguments: ArraySlice<String>) -> ExitCode {
    let options: ConfigOptions
    do {
        options = try ConfigOptions(arguments, command: "check")
    } catch {
        printError("relayd: \(error.message)\n\n\(checkHelp)")
        return .usage
    }
    if options.help {
        print(checkHelp, terminator: "")
        return .ok
    }
    guard let (config, path) = loadConfig(options) else { return .usage }
    print("\(path): configuration is valid (\(config.listeners.count) listeners, \(config.backends.count) backend groups)")
    return .ok
}

func probe(_ arguments: ArraySlice<String>) async -> ExitCode {
    let options: ConfigOptions
    do {
        options = try ConfigOptions(arguments, command: "probe")
    } catch {
        printError("relayd: \(error.message)\n\n\(probeHelp)")
        return .usage
    }
    if options.help {
        print(probeHelp, terminator: "")
        return .ok
    }
    guard let (config, _) = loadConfig(options) else { return .usage }
    signal(SIGPIPE, SIG_IGN)
    let loops: EventLoopGroup
    do {
        loops = try EventLoopGroup(loops: 2, bufferSize: 64 * 1024)
    } catch {
        printError("relayd: cannot start event loops: \(error)")
        return .failure
    }
    defer { loops.shutdown() }
    let rows = await ProbeReport.run(config: config, count: options.count, loops: loops)
    print(options.json ? ProbeReport.json(rows) : ProbeReport.table(rows), terminator: "")
    return ProbeReport.everyGroupHealthy(rows, groups: Array(config.backends.keys)) ? .ok : .failure
}

@main
struct RelaydCommand {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        let code: ExitCode
        switch arguments.first {
        case nil, "-h", "--help":
            print(mainHelp, terminator: "")
            code = arguments.isEmpty ? .usage : .ok
        case "help":
            switch arguments.dropFirst().first {
            case "serve": print(serveHelp, terminator: "")
            case "check": print(checkHelp, terminator: "")
            case "probe": print(probeHelp, terminator: "")
            case "version": print(versionHelp, terminator: "")
            default: print(mainHelp, terminator: "")
            }
            code = .ok
        case "serve":
            code = await serve(arguments.dropFirst())
        case "check":
            code = check(arguments.dropFirst())
        case "probe":
            code = await probe(arguments.dropFirst())
        case "version", "--version":
            if arguments.dropFirst().contains(where: { $0 == "-h" || $0 == "--help" }) {
                print(versionHelp, terminator: "")
            } else {
                print("relayd \(version)")
            }
            code = .ok
        case let command?:
            printError("relayd: unknown command `\(command)`\n\n\(mainHelp)")
            code = .usage
        }
        exit(code.rawValue)
    }
}

/// Counts signals across handler invocations.
final class ManagedAtomicCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one and returns the new count.
    func increment() -> Int {
        value.add(1, ordering: .relaxed).newValue
    }
}
