import Testing
@testable import RelayCore

/// The problems `RelayConfig.parse` reports for `text`, recording a test failure if it accepts the text.
func configIssues(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> [ConfigIssue] {
    do {
        let config = try RelayConfig.parse(text)
        Issue.record("expected the config to be rejected, got \(config)", sourceLocation: sourceLocation)
        return []
    } catch {
        return error.issues
    }
}

@Suite struct ConfigParsingTests {
    @Test func emptyObjectGivesEveryDefault() throws {
        let config = try RelayConfig.parse("{}")
        #expect(config == RelayConfig())
        #expect(config.listeners.isEmpty)
        #expect(config.backends.isEmpty)
        #expect(config.drainTimeout == .seconds(30))
        #expect(config.log == LogConfig(level: .info, format: .text))
        #expect(config.io == IOConfig(loops: 0, bufferSize: 262_144, splice: false))
    }

    @Test func listenerAndBackendDefaultsApplyToAbsentKeys() throws {
        let config = try RelayConfig.parse("""
            {
              listeners: [{ name: "web", listen: "127.0.0.1:8080", backend: "app" }],
              backends: { app: { servers: ["127.0.0.1:9001"] } },
            }
            """)
        let listener = try #require(config.listeners.first)
        #expect(listener.proto == .tcp)
        #expect(listener.maxConnections == 10_000)
        #expect(listener.maxConnectionsPerIP == 0)
        #expect(listener.tcpNoDelay)
        #expect(listener.keepalive)
        #expect(listener.backlog == 1024)
        let group = try #require(config.backends["app"])
        #expect(group.name == "app")
        #expect(group.balance == .roundRobin)
        #expect(group.connectTimeout == .seconds(1))
        #expect(group.maxConnectAttempts == 0)
    }

    @Test func everyKeyIsReadIntoTheTypedConfig() throws {
        let config = try RelayConfig.parse("""
            {
              "listeners": [
                {
                  "name": "web.v6", "protocol": "tcp", "listen": "[::]:443", "backend": "app_servers",
                  "max_connections": 500, "max_connections_per_ip": 20, "tcp_nodelay": false,
                  "keepalive": false, "backlog": 4096
                },
                { "name": "echo-1", "protocol": "echo", "listen": "127.0.0.1:0" }
              ],
              "backends": {
                "app_servers": {
                  "servers": ["10.0.0.1:8080", "[fd00::2]:8080"], "balance": "round_robin",
                  "connect_timeout": "250ms", "max_connect_attempts": 2
                }
              },
              "drain_timeout": "1m30s",
              "log": { "level": "debug", "format": "json" },
              "io": { "loops": 4, "buffer_size": "64KiB", "splice": true }
            }
            """)
        let expected = RelayConfig(
            listeners: [
                ListenerConfig(name: "web.v6", proto: .tcp, listen: try Endpoint(parsing: "[::]:443"),
                               backend: "app_servers", maxConnections: 500, maxConnectionsPerIP: 20,
                               tcpNoDelay: false, keepalive: false, backlog: 4096),
                ListenerConfig(name: "echo-1", proto: .echo, listen: try Endpoint(parsing: "127.0.0.1:0")),
            ],
            backends: [
                "app_servers": BackendConfig(
                    name: "app_servers",
                    servers: [
                        ServerEntry(target: .address(try Endpoint(parsing: "10.0.0.1:8080")),
                                    origin: "backends.app_servers.servers[0]"),
                        ServerEntry(target: .address(try Endpoint(parsing: "[fd00::2]:8080")),
                                    origin: "backends.app_servers.servers[1]"),
                    ],
                    balance: .roundRobin, connectTimeout: .milliseconds(250), maxConnectAttempts: 2),
            ],
            drainTimeout: .seconds(90),
            log: LogConfig(level: .debug, format: .json),
            io: IOConfig(loops: 4, bufferSize: 65536, splice: true))
        #expect(config == expected)
    }

    @Test func json5CommentsUnquotedKeysSingleQuotesAndTrailingCommasAreAccepted() throws {
        let config = try RelayConfig.parse("""
            // line comment
            {
              /* block
                 comment */
              drain_timeout: '5s', // unquoted key, single quotes
              io: { buffer_size: 65536, loops: 2, },
              listeners: [
                { name: 'e', protocol: 'echo', listen: '127.0.0.1:9000', },
              ],
            }
            """)
        #expect(config.drainTimeout == .seconds(5))
        #expect(config.io.bufferSize == 65536)
        #expect(config.io.loops == 2)
        #expect(config.listeners.map(\.name) == ["e"])
    }

    @Test func bufferSizeAcceptsBytesOrBinaryUnits() throws {
        for (text, bytes) in [("4096", 4096), ("\"512KiB\"", 524_288), ("\"1MiB\"", 1_048_576),
                              ("\"16MiB\"", 16_777_216), ("\"8192B\"", 8192)] {
            let config = try RelayConfig.parse("{ io: { buffer_size: \(text) } }")
            #expect(config.io.bufferSize == bytes, "buffer_size: \(text)")
        }
    }

    @Test func logLevelAcceptsWarningAsWarn() throws {
        #expect(try RelayConfig.parse("{ log: { level: 'warning' } }").log.level == .warn)
    }

    @Test func treeKeepsKeysInFileOrder() throws {
        let value = try JSON5Document(parsing: "{ zeta: 1, alpha: { b: true, a: null }, mid: [1, 'x'] }").value
        #expect(value == .object([
            ("zeta", .number(1)),
            ("alpha", .object([("b", .bool(true)), ("a", .null)])),
            ("mid", .array([.number(1), .string("x")])),
        ]))
    }

    @Test func shippedConfigurationParses() throws {
        let config = try RelayConfig.load(path: ConfigParsingTests.packageRoot + "/Configurations/relayd.json5")
        #expect(config.listeners.map(\.name) == ["web", "echo-1", "echo-2"])
        let web = try #require(config.listeners.first)
        #expect(web.listen.description == "127.0.0.1:8080")
        #expect(web.backend == "echo")
        let echo = try #require(config.backends["echo"])
        #expect(echo.servers.map(\.target.description) == ["127.0.0.1:9001", "127.0.0.1:9002"])
        #expect(echo.servers.allSatisfy { $0.weight == 1 })
        #expect(echo.balance == .roundRobin)
        // The shipped file spells out every default, so it must read the same as the defaults themselves.
        #expect(echo.probe == ProbeParameters())
        #expect(echo.scoring == ScoringParameters())
        #expect(echo.selector == SelectorParameters())
        #expect(echo.dnsRefresh == .seconds(30))
        #expect(echo.defaultPort == nil)
        #expect(echo.serversFile == nil)
        #expect(config.listeners.dropFirst().map(\.listen.description) == ["127.0.0.1:9001", "127.0.0.1:9002"])
        #expect(config.listeners.dropFirst().allSatisfy { $0.proto == .echo })
    }

    @Test func unreadableFileIsReportedWithItsPathAndReason() {
        let path = ConfigParsingTests.packageRoot + "/Configurations/does-not-exist.json5"
        #expect {
            _ = try RelayConfig.load(path: path)
        } throws: { error in
            let message = (error as? ConfigError)?.description ?? ""
            return message.contains(path) && message.contains("No such file or directory")
        }
    }

    @Test func directoryIsNotAConfigFile() {
        #expect {
            _ = try RelayConfig.load(path: ConfigParsingTests.packageRoot + "/Sources")
        } throws: { error in
            (error as? ConfigError)?.description.contains("Is a directory") ?? false
        }
    }

    /// The package's root directory, found from this file's path so tests run from any working directory.
    static let packageRoot: String = {
        var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)  // Tests/RelayCoreTests/ConfigParsingTests.swift
        return components.joined(separator: "/")
    }()
}
