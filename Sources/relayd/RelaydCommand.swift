import Foundation
import RelayCore
import RelayIO

#if canImport(Glibc)
import Glibc
#endif

let version = RelaydVersion.current

let mainHelp = """
    relayd \(version) - relays TCP to the best backends it can find

    Usage: relayd <command> [options]

    Commands:
      serve     run the relay (default config: Configurations/relayd.json5)
      check     validate a configuration file and exit
      probe     probe every backend server now and print their scores
      connect   open a reliable-UDP session: stdin lines out, messages in
      keygen    print a new client key line for a reliable-udp keys_file
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
    let output = LogOutput()
    do {
        try output.apply(config.log.output)
    } catch {
        printError("relayd: cannot open log.output \(config.log.output): \(error); check that the directory exists "
                   + "and relayd may write there")
        return .failure
    }
    let logger = Logger(level: config.log.level, format: config.log.format, sink: .output(output))
    logger.settings.apply(level: config.log.level, format: config.log.format, modules: config.log.modules)
    raiseOpenFilesLimit(logger: logger)
    let server: RelayServer
    do {
        server = try RelayServer(config: config, configPath: path, logger: logger, logOutput: output,
                                 notifier: SystemdNotifier(environment: ProcessInfo.processInfo.environment))
    } catch {
        logger.error("could not start", ["config": path, "error": String(describing: error)])
        return .failure
    }
    if let allotment = DescriptorBudget.configure() {
        logger.debug("descriptor budget", ["open_files_limit": allotment.limit, "other_descriptors": allotment.uncounted,
                                           "kept_free": allotment.reserve, "sockets_and_pipes": allotment.budget])
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
            case "connect": print(connectHelp, terminator: "")
            case "keygen": print(keygenHelp, terminator: "")
            default: print(mainHelp, terminator: "")
            }
            code = .ok
        case "serve":
            code = await serve(arguments.dropFirst())
        case "check":
            code = check(arguments.dropFirst())
        case "probe":
            code = await probe(arguments.dropFirst())
        case "connect":
            code = await ConnectCommand.connect(arguments.dropFirst())
        case "keygen":
            code = ConnectCommand.keygen(arguments.dropFirst())
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
