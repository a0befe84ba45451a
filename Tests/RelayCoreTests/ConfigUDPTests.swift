import Testing
@testable import RelayCore

@Suite struct ConfigUDPTests {
    @Test func udpListenerKeysAndDefaults() throws {
        let config = try RelayConfig.parse("""
            { listeners: [ { name: "dns", protocol: "udp", listen: "127.0.0.1:53", backend: "dns" },
                           { name: "tight", protocol: "udp", listen: "127.0.0.1:54", backend: "dns",
                             idle_timeout: "5s", max_flows: 10, responses: 1 },
                           { name: "web", listen: "127.0.0.1:53", backend: "dns" } ],
              backends: { dns: { servers: ["127.0.0.1:5353"], probe: { kind: "udp", payload_hex: "00 01 ff" } } } }
            """)
        #expect(config.listeners[0].idleTimeout == .seconds(30))
        #expect(config.listeners[0].maxFlows == 100_000)
        #expect(config.listeners[0].responses == 0)
        #expect(config.listeners[1].idleTimeout == .seconds(5))
        #expect(config.listeners[1].maxFlows == 10)
        #expect(config.listeners[1].responses == 1)
        // A TCP and a UDP listener may share a port number.
        #expect(config.listeners[2].listen.port == 53)
        #expect(config.backends["dns"]?.probe.kind == .udp(payload: [0x00, 0x01, 0xff]))
    }

    @Test func udpListenerNeedsABackendAndHexMustBeHex() {
        #expect(throws: ConfigError.self) {
            try RelayConfig.parse(#"{ listeners: [ { name: "u", protocol: "udp", listen: "127.0.0.1:53" } ] }"#)
        }
        do {
            _ = try RelayConfig.parse(#"{ backends: { b: { servers: ["127.0.0.1:1"], probe: { kind: "udp", payload_hex: "0g" } } } }"#)
            Issue.record("a bad hex payload was accepted")
        } catch {
            #expect(error.issues.first?.path == "backends.b.probe.payload_hex")
        }
    }
}
