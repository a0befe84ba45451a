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

    /// A config with listeners `listeners` (each `name: protocol`, all using group `g`) and group `g` with the
    /// `probe` keys given (no `probe` key at all when nil).
    private func sharedGroup(_ listeners: [(String, String)], probe: String? = nil) -> String {
        let entries = listeners.enumerated().map { index, listener in
            #"{ name: "\#(listener.0)", protocol: "\#(listener.1)", listen: "127.0.0.1:\#(5300 + index)", "#
                + #"backend: "g" }"#
        }
        let probeKey = probe.map { ", probe: { \($0) }" } ?? ""
        return #"{ listeners: [\#(entries.joined(separator: ", "))], "#
            + #"backends: { g: { servers: ["127.0.0.1:53"]\#(probeKey) } } }"#
    }

    /// The probe kind group `g` of `text` gets.
    private func probeKind(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws
        -> ProbeParameters.Kind {
        try #require(try RelayConfig.parse(text).backends["g"], sourceLocation: sourceLocation).probe.kind
    }

    @Test func groupOfUDPListenersProbesWithUDPUnlessTold() throws {
        let ping = ProbeParameters.Kind.udp(payload: Array("ping".utf8))
        #expect(try probeKind(sharedGroup([("dns", "udp"), ("dns2", "udp")])) == ping)
        #expect(try probeKind(sharedGroup([("dns", "udp")], probe: "interval: '5s'")) == ping)
        // With the kind following the listeners, a udp-only key needs no `kind` beside it.
        #expect(try probeKind(sharedGroup([("dns", "udp")], probe: "payload: 'hello'"))
            == .udp(payload: Array("hello".utf8)))
        #expect(try probeKind(sharedGroup([("dns", "udp")], probe: "payload_hex: '00ff'")) == .udp(payload: [0, 0xFF]))
    }

    @Test func groupOfTCPListenersOrOfNoneProbesWithTCPUnlessTold() throws {
        #expect(try probeKind(sharedGroup([("web", "tcp"), ("api", "tcp")])) == .tcp)
        #expect(try probeKind(sharedGroup([("web", "tcp")], probe: "interval: '5s'")) == .tcp)
        #expect(try probeKind(sharedGroup([])) == .tcp)
        #expect(try probeKind(#"{ backends: { g: { servers: ["127.0.0.1:53"], probe: {} } } }"#) == .tcp)
    }

    @Test func explicitProbeKindWinsOverTheListeners() throws {
        #expect(try probeKind(sharedGroup([("dns", "udp")], probe: "kind: 'tcp'")) == .tcp)
        #expect(try probeKind(sharedGroup([("web", "tcp")], probe: "kind: 'udp'")) == .udp(payload: Array("ping".utf8)))
        #expect(try probeKind(sharedGroup([("dns", "udp")], probe: "kind: 'http'"))
            == .http(path: "/", expectStatus: 200...399))
        #expect(try probeKind(sharedGroup([("web", "tcp"), ("dns", "udp")], probe: "kind: 'udp', payload: 'x'"))
            == .udp(payload: Array("x".utf8)))
        #expect(try probeKind(sharedGroup([("web", "tcp"), ("dns", "udp")], probe: "kind: 'tcp'")) == .tcp)
    }

    @Test(arguments: [nil, "interval: '5s'", "payload: 'x'"] as [String?])
    func groupOfTCPAndUDPListenersMustNameItsProbeKind(probe: String?) throws {
        let issues = configIssues(sharedGroup([("web", "tcp"), ("dns", "udp"), ("dns2", "udp")], probe: probe))
        #expect(issues.map(\.path) == ["backends.g.probe.kind"])
        let issue = try #require(issues.first)
        #expect(issue.message == "missing; this group is used by tcp listener `web` (listeners[0]) and udp listeners "
            + "`dns` (listeners[1]), `dns2` (listeners[2]), so its probe cannot follow their protocol; set `kind` to "
            + #""tcp", "http" or "udp""#)
        #expect(issue.line != nil)
    }

    @Test func keyOfAnotherKindNamesTheDefaultTheListenersGave() {
        let issues = configIssues(sharedGroup([("dns", "udp")], probe: "path: '/healthz'"))
        #expect(issues.map { "\($0.path): \($0.message)" } == [
            "backends.g.probe.path: only an http probe takes `path`, and this probe's kind is `udp` (the default, "
                + #"since only udp listeners use this group); remove this key or set `kind: "http"`"#,
        ])
    }
}
