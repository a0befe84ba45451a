// libFuzzer entry point for the PROXY protocol header parser (versions 1 and 2) and the IP address text parser it
// uses. Built by Tools/fuzz/run-proxy with Sources/RelayProtocol/ProxyProtocol/*.swift (no module, so internal API
// is visible). Every broken invariant traps, which libFuzzer reports as a crash with its input.
#if canImport(Glibc)
import Glibc
#endif

enum ProxyFuzzFixtures {
    static func seeds() -> [(String, [UInt8])] {
        let v4 = ProxyHeader.Addresses.ipv4(source: [192, 0, 2, 9], sourcePort: 4000, destination: [192, 0, 2, 1],
                                            destinationPort: 443)
        let v6 = ProxyHeader.Addresses.ipv6(source: [0x20, 0x01, 0x0D, 0xB8] + [UInt8](repeating: 0, count: 11) + [9],
                                            sourcePort: 1, destination: [UInt8](repeating: 0, count: 15) + [1],
                                            destinationPort: 65535)
        return [
            ("v1-tcp4", ProxyHeader(version: .v1, addresses: v4).encode() + Array("GET /".utf8)),
            ("v1-tcp6", ProxyHeader(version: .v1, addresses: v6).encode()),
            ("v1-unknown", ProxyHeader.local(.v1).encode()),
            ("v2-tcp4-tlv", ProxyHeader(version: .v2, addresses: v4, tlvs: [
                .init(type: ProxyHeader.TLV.authority, value: Array("example.com".utf8)),
                .init(type: ProxyHeader.TLV.alpn, value: Array("h2".utf8)),
            ]).encode()),
            ("v2-udp6", ProxyHeader(version: .v2, transport: .datagram, addresses: v6).encode()),
            ("v2-unix", ProxyHeader(version: .v2, addresses: .unix(source: Array("/a".utf8), destination: [])).encode()),
            ("v2-local", ProxyHeader.local(.v2).encode()),
        ]
    }
}

/// Parses the input whole and cut at every length up to its first 128 bytes (a header arriving in pieces): a
/// parse must never claim more bytes than it was given, must not change its mind once a prefix decided, and a
/// header must re-encode to bytes that parse back to the same header.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProxyHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = size == 0 || data == nil ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    let whole = ProxyHeader.parse(input, maximumLength: 4096)
    check(whole, input: input)
    var decided: ProxyHeaderParse?
    for count in 0...min(input.count, 128) {
        let partial = ProxyHeader.parse(Array(input.prefix(count)), maximumLength: 4096)
        check(partial, input: Array(input.prefix(count)))
        if let decided {
            precondition(partial == decided, "a longer prefix changed a decided parse")
        } else if partial != .needMore {
            decided = partial
            // Once decided on a prefix, the whole input decides the same.
            precondition(whole == partial, "the whole input parsed unlike its prefix")
        }
    }
    _ = IPAddressText.parseIPv4(input)
    if let address = IPAddressText.parseIPv6(input) {
        let text = IPAddressText.format(address) ?? ""
        precondition(IPAddressText.parseIPv6(Array(text.utf8)) == address, "IPv6 text does not read back")
    }
    return 0
}

private func check(_ result: ProxyHeaderParse, input: [UInt8]) {
    switch result {
    case let .header(header, length):
        precondition(length > 0 && length <= input.count, "a header claims \(length) of \(input.count) bytes")
        precondition(length <= 4096, "a header longer than the bound")
        let encoded = header.encode()
        guard case let .header(again, encodedLength) = ProxyHeader.parse(encoded) else {
            preconditionFailure("a parsed header does not re-encode to a header")
        }
        precondition(encodedLength == encoded.count, "a re-encoded header has trailing bytes")
        precondition(again == header, "a header does not survive re-encoding")
    case let .invalid(reason):
        precondition(!reason.isEmpty, "an error without a reason")
    case .needMore:
        precondition(input.count < 4096 + 16, "more bytes wanted past the bound")
    case .notProxy:
        break
    }
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                           _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?) -> CInt {
    guard let directory = getenv("PROXY_FUZZ_SEEDS").map({ String(cString: $0) }) else { return 0 }
    for (name, bytes) in ProxyFuzzFixtures.seeds() {
        guard let file = fopen(directory + "/" + name, "wb") else { continue }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        fclose(file)
    }
    exit(0)
}
