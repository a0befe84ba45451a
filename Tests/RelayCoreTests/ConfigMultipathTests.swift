import Foundation
import Testing
import TestSupport
@testable import RelayCore

/// The multipath listeners' keys: defaults, and every value that cannot work refused with its key's path.
@Suite(.computeBound) struct ConfigMultipathTests {
    func withKeys<T>(_ body: (String) throws -> T) throws -> T {
        let path = try MultipathRelayFixtures.keysFile()
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try body(path)
    }

    func client(_ keys: String, _ extra: String) -> String {
        """
        { listeners: [ { name: "c", protocol: "multipath-client", listen: "127.0.0.1:9000", client_id: "alice",
                         key_file: "\(keys)", links: [ { name: "a", remote: "127.0.0.1:7000" },
                                                        { name: "b", remote: "relay.example:7000", priority: 50 } ]
                         \(extra) } ] }
        """
    }

    @Test func clientDefaultsAreTheSeeds_andTheKeyComesFromTheKeysFile() throws {
        try withKeys { keys in
            let config = try RelayConfig.parse(client(keys, ""))
            let multipath = try #require(config.listeners[0].multipath)
            #expect(multipath.clientID == "alice")
            #expect(multipath.key == MultipathRelayFixtures.aliceKey)
            #expect(multipath.parameters == MultipathParameters())
            #expect(multipath.links.map(\.name) == ["a", "b"])
            #expect(multipath.links[1].remote == .hostname("relay.example", port: 7000))
            #expect(multipath.links[1].priority == 50)
            #expect(config.listeners[0].idleTimeout == .seconds(30))
        }
    }

    @Test(arguments: [
        (#", heartbeat_interval: "0s""#, "heartbeat_interval"),
        (#", heartbeat_timeout: "0s""#, "heartbeat_timeout"),
        (#", heartbeat_interval: "2s", heartbeat_timeout: "1s""#, "heartbeat_timeout"),
        (#", loss_window: 0"#, "loss_window"),
        (#", loss_weight: -1"#, "loss_weight"),
        (#", rtt_weight: -1"#, "rtt_weight"),
        (#", loss_weight: 0, rtt_weight: 0"#, "rtt_weight"),
        (#", switch_threshold: 0"#, "switch_threshold"),
        (#", throughput_threshold_kbps: 0"#, "throughput_threshold_kbps"),
        (#", max_consecutive_fail: 0"#, "max_consecutive_fail"),
        (#", dns_refresh: "0s""#, "dns_refresh"),
        (#", redundancy: "sometimes""#, "redundancy"),
        (#", redundancy_loss_threshold: 101"#, "redundancy_loss_threshold"),
        (#", client_id: "carol""#, "key_file"),
        (#", keys_file: "x""#, "keys_file"),
        (#", backend: "app""#, "backend"),
        (#", rate_limit: { per_ip: { rate: 1, interval: "1s", burst: 1 } }"#, "rate_limit"),
        (#", responses: 1"#, "responses"),
    ])
    func everyUnworkableKnob_isReportedWithItsKey(extra: String, key: String) throws {
        try withKeys { keys in
            // A `client_id` given in `extra` replaces alice's.
            let text = client(keys, extra)
                .replacingOccurrences(of: #"client_id: "alice","#, with: extra.contains("client_id") ? "" : #"client_id: "alice","#)
            do {
                _ = try RelayConfig.parse(text)
                Issue.record("accepted \(extra)")
            } catch let error as ConfigError {
                #expect(error.issues.map(\.path).contains("listeners[0].\(key)"), "\(error)")
            }
        }
    }

    @Test func linksMustBeUniqueAndWellFormed() throws {
        try withKeys { keys in
            for (links, path) in [("[]", "listeners[0].links"),
                                  (#"[{ name: "a", remote: "127.0.0.1:1" }, { name: "a", remote: "127.0.0.1:2" }]"#,
                                   "listeners[0].links"),
                                  (#"[{ name: "a", remote: "127.0.0.1" }]"#, "listeners[0].links[0].remote"),
                                  (#"[{ name: "a", remote: "127.0.0.1:1", priority: -1 }]"#,
                                   "listeners[0].links[0].priority")] {
                let text = """
                    { listeners: [ { name: "c", protocol: "multipath-client", listen: "127.0.0.1:9000",
                                     client_id: "alice", key_file: "\(keys)", links: \(links) } ] }
                    """
                do {
                    _ = try RelayConfig.parse(text)
                    Issue.record("accepted links \(links)")
                } catch let error as ConfigError {
                    #expect(error.issues.map(\.path).contains(path), "\(error)")
                }
            }
        }
    }

    @Test func serverReadsEveryKey_andNeedsAUDPBackend() throws {
        try withKeys { keys in
            let config = try RelayConfig.parse("""
                { listeners: [ { name: "s", protocol: "multipath-server", listen: "127.0.0.1:7000", backend: "app",
                                 keys_file: "\(keys)", link_timeout: "30s" } ],
                  backends: { app: { servers: ["127.0.0.1:53"] } } }
                """)
            let multipath = try #require(config.listeners[0].multipath)
            #expect(multipath.keys == ["alice": MultipathRelayFixtures.aliceKey, "bob": MultipathRelayFixtures.bobKey])
            #expect(multipath.linkTimeout == .seconds(30))
            // Its backend is probed over UDP by default, as a udp listener's is.
            #expect(config.backends["app"]?.probe.kind == .udp(payload: Array("ping".utf8)))
            do {
                _ = try RelayConfig.parse("""
                    { listeners: [ { name: "s", protocol: "multipath-server", listen: "127.0.0.1:7000",
                                     keys_file: "/nonexistent/keys" } ] }
                    """)
                Issue.record("accepted a server without backend and with a missing keys file")
            } catch let error as ConfigError {
                #expect(error.issues.map(\.path).contains("listeners[0].backend"))
                #expect(error.issues.map(\.path).contains("listeners[0].keys_file"))
            }
        }
    }
}
