import Testing
import TestSupport
@testable import RelayProtocol

/// Reading SNI and ALPN from a ClientHello without terminating TLS.
@Suite struct TLSClientHelloTests {
    static func hello(serverName: String? = "api.example.com", alpn: [String] = ["h2", "http/1.1"],
                      extensionsPresent: Bool = true) -> [UInt8] {
        TLSHelloBuilder.handshake(serverName: serverName, alpn: alpn, extensionsPresent: extensionsPresent)
    }

    static func records(_ handshake: [UInt8], recordSize: Int = 1 << 14) -> [UInt8] {
        TLSHelloBuilder.records(handshake, recordSize: recordSize)
    }

    @Test func readsServerNameAndALPN_lowerCased() {
        let bytes = Self.records(Self.hello(serverName: "API.Example.COM"))
        #expect(TLSClientHello.parse(bytes) == .hello(TLSClientHello(serverName: "api.example.com", alpn: ["h2", "http/1.1"])))
    }

    @Test func everyPrefixNeedsMore_andSplitRecordsAreJoined() {
        let bytes = Self.records(Self.hello())
        for count in 0..<bytes.count { #expect(TLSClientHello.parse(Array(bytes.prefix(count))) == .needMore) }
        let split = Self.records(Self.hello(), recordSize: 40)
        #expect(TLSClientHello.parse(split + [23, 3, 3]) == TLSClientHello.parse(bytes))
    }

    @Test func helloWithoutNameOrExtensions() {
        #expect(TLSClientHello.parse(Self.records(Self.hello(serverName: nil, alpn: []))) == .hello(TLSClientHello()))
        #expect(TLSClientHello.parse(Self.records(Self.hello(extensionsPresent: false))) == .hello(TLSClientHello()))
    }

    @Test func otherProtocolsAreNotTLS() {
        for text in ["GET / HTTP/1.1\r\n", "SSH-2.0-OpenSSH\r\n", "PROXY TCP4 "] {
            #expect(TLSClientHello.parse(Array(text.utf8)) == .notTLS)
        }
        #expect(TLSClientHello.parse([22, 2, 0]) == .notTLS)
    }

    @Test func malformedHellosAreInvalid() {
        var badName = Self.records(Self.hello(serverName: "bad name"))
        var cases: [(String, [UInt8])] = [("space in the name", badName)]
        cases.append(("trailing dot", Self.records(Self.hello(serverName: "example.com."))))
        cases.append(("not a ClientHello", Self.records([2, 0, 0, 1, 0])))
        var cut = Self.hello()
        cut[3] &-= 10  // the message claims fewer bytes than its fields take
        cases.append(("fields past the message", Self.records(cut)))
        badName = Self.records(Self.hello())
        badName[5 + 4 + 2 + 32 + 1 + 32 + 2 + 4 + 1 + 1] = 0xFF  // extensions length high byte
        cases.append(("extensions length", badName))
        cases.append(("an alert record inside", [22, 3, 1, 0, 4] + Array(Self.hello().prefix(4)) + [21, 3, 3, 0, 2, 2, 40]))
        for (name, bytes) in cases {
            guard case .invalid = TLSClientHello.parse(bytes) else {
                Issue.record("accepted: \(name): \(TLSClientHello.parse(bytes))")
                continue
            }
        }
    }

    @Test func boundIsEnforcedBeforeTheBytesArrive() {
        let big = Self.records(Self.hello(serverName: String(repeating: "a", count: 200), alpn: ["x"]))
        guard case .invalid = TLSClientHello.parse(big, maximumLength: 100) else {
            Issue.record("a hello over the bound was not refused")
            return
        }
    }
}
