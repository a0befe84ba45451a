/// TLS ClientHello bytes for tests of relayd's SNI and ALPN reading: the layout of RFC 8446 §4.1.2 with a fixed
/// random, session id and cipher suites, an extension relayd skips, and the server name and ALPN list given.
public enum TLSHelloBuilder {
    /// The handshake message (type 1) alone.
    public static func handshake(serverName: String? = "api.example.com", alpn: [String] = ["h2", "http/1.1"],
                                 extensionsPresent: Bool = true) -> [UInt8] {
        func u16(_ value: Int) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
        var extensions: [UInt8] = []
        if let serverName {
            let name = Array(serverName.utf8)
            let entry: [UInt8] = [0] + u16(name.count) + name
            let data = u16(entry.count) + entry
            extensions += u16(0) + u16(data.count) + data
        }
        // supported_versions, skipped.
        extensions += u16(43) + u16(3) + [2, 3, 4]
        if !alpn.isEmpty {
            let list = alpn.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) }
            let data = u16(list.count) + list
            extensions += u16(16) + u16(data.count) + data
        }
        var body: [UInt8] = [3, 3] + [UInt8](repeating: 7, count: 32) + [32] + [UInt8](repeating: 1, count: 32)
        body += u16(4) + [0x13, 0x01, 0x13, 0x02] + [1, 0]
        if extensionsPresent { body += u16(extensions.count) + extensions }
        return [1, 0, UInt8(body.count >> 8), UInt8(body.count & 0xFF)] + body
    }

    /// `handshake` in TLS handshake records of at most `recordSize` bytes each.
    public static func records(_ handshake: [UInt8], recordSize: Int = 1 << 14) -> [UInt8] {
        stride(from: 0, to: handshake.count, by: recordSize).flatMap { start -> [UInt8] in
            let part = handshake[start..<min(handshake.count, start + recordSize)]
            return [22, 3, 1, UInt8(part.count >> 8), UInt8(part.count & 0xFF)] + part
        }
    }

    /// A whole ClientHello in one record.
    public static func hello(_ serverName: String?, alpn: [String] = []) -> [UInt8] {
        records(handshake(serverName: serverName, alpn: alpn))
    }
}
