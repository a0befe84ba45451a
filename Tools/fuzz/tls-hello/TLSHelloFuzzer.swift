// libFuzzer entry point for the TLS ClientHello reader (SNI, ALPN) that routes use. Built by Tools/fuzz/run-tls
// with Sources/RelayProtocol/TLS/*.swift (no module, so internal API is visible). Every broken invariant traps,
// which libFuzzer reports as a crash with its input.
#if canImport(Glibc)
import Glibc
#endif

enum TLSFuzzFixtures {
    static func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

    static func hello(name: String?, alpn: [String], recordSize: Int) -> [UInt8] {
        var extensions: [UInt8] = []
        if let name {
            let bytes = Array(name.utf8)
            let entry: [UInt8] = [0] + u16(bytes.count) + bytes
            extensions += u16(0) + u16(entry.count + 2) + u16(entry.count) + entry
        }
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            extensions += u16(16) + u16(list.count + 2) + u16(list.count) + list
        }
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [0] + u16(2) + [0x13, 0x01] + [1, 0]
        body += u16(extensions.count) + extensions
        let handshake = [1, 0] + u16(body.count) + body
        return stride(from: 0, to: handshake.count, by: recordSize).flatMap { start -> [UInt8] in
            let part = handshake[start..<min(handshake.count, start + recordSize)]
            return [22, 3, 1] + u16(part.count) + part
        }
    }

    static func seeds() -> [(String, [UInt8])] {
        [
            ("sni-alpn", hello(name: "api.example.com", alpn: ["h2", "http/1.1"], recordSize: 1 << 14)),
            ("sni-split", hello(name: "a.b.internal.example", alpn: [], recordSize: 17)),
            ("no-sni", hello(name: nil, alpn: ["h2"], recordSize: 1 << 14)),
        ]
    }
}

/// Parses the input whole and cut at every length up to 256 bytes: a decided prefix (a hello, not TLS, invalid)
/// must decide the same as the whole input; a server name is lower-case DNS characters; ALPN names are non-empty.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTLSHello(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let whole = TLSClientHello.parse(input, maximumLength: 4096)
    check(whole)
    var decided: TLSClientHelloParse?
    for count in 0...min(input.count, 256) {
        let partial = TLSClientHello.parse(Array(input.prefix(count)), maximumLength: 4096)
        if let decided {
            precondition(partial == decided, "a longer prefix changed a decided parse")
        } else if partial != .needMore {
            decided = partial
            precondition(whole == partial, "the whole input parsed unlike its prefix")
        }
    }
    return 0
}

private func check(_ result: TLSClientHelloParse) {
    switch result {
    case let .hello(hello):
        if let name = hello.serverName {
            precondition(!name.isEmpty && name.utf8.allSatisfy { TLSClientHello.isHostCharacter($0) && !(65...90).contains($0) },
                         "a server name that is not lower-case DNS characters")
        }
        precondition(hello.alpn.allSatisfy { !$0.isEmpty }, "an empty ALPN name")
    case let .invalid(reason):
        precondition(!reason.isEmpty, "an error without a reason")
    case .needMore, .notTLS:
        break
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("TLS_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, bytes) in TLSFuzzFixtures.seeds() {
        guard let file = fopen(directory + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}
