/// What a relay may read from the first bytes of a TLS connection without terminating it: the server name (SNI,
/// RFC 6066) and the application protocols offered (ALPN, RFC 7301) of the ClientHello (RFC 8446 §4.1.2, and the
/// same layout in TLS 1.0-1.2). The bytes are only looked at; the relay passes them on untouched.
public struct TLSClientHello: Sendable, Equatable {
    /// The `host_name` of the server_name extension, lower-cased; nil when the client sent none.
    public var serverName: String?
    /// The protocols of the ALPN extension, in the client's order; empty when it sent none.
    public var alpn: [String]

    public init(serverName: String? = nil, alpn: [String] = []) {
        self.serverName = serverName
        self.alpn = alpn
    }
}

public enum TLSClientHelloParse: Sendable, Equatable {
    /// The bytes so far start a ClientHello (or are too few to tell): read more.
    case needMore
    /// The bytes do not start a TLS handshake (plain TCP, or another protocol).
    case notTLS
    /// A whole ClientHello.
    case hello(TLSClientHello)
    /// The bytes start like a TLS handshake but break its rules, or the hello is longer than the bound.
    case invalid(String)
}

extension TLSClientHello {
    /// The TLS record header: content type, legacy version, length.
    static let recordHeaderLength = 5
    static let handshakeContentType: UInt8 = 22
    static let clientHelloType: UInt8 = 1
    /// RFC 8446 §5.1: a record's plaintext is at most 2^14 bytes.
    static let maximumRecordLength = 1 << 14

    /// Parses the ClientHello at the start of `bytes`, which may span several TLS records. `maximumLength` bounds
    /// the bytes a caller buffers: a hello that needs more is invalid.
    public static func parse(_ bytes: [UInt8], maximumLength: Int = 16 * 1024 + 5) -> TLSClientHelloParse {
        guard let first = bytes.first else { return .needMore }
        guard first == handshakeContentType else { return .notTLS }
        if bytes.count >= 2, bytes[1] != 3 { return .notTLS }
        // Gather the handshake bytes of consecutive handshake records until the ClientHello is whole.
        var handshake: [UInt8] = []
        var offset = 0
        while true {
            guard bytes.count - offset >= recordHeaderLength else {
                return offset + recordHeaderLength > maximumLength ? .invalid("ClientHello longer than \(maximumLength) bytes") : .needMore
            }
            guard bytes[offset] == handshakeContentType else {
                return .invalid("a record of type \(bytes[offset]) inside the ClientHello")
            }
            guard bytes[offset + 1] == 3 else { return .invalid("TLS record version \(bytes[offset + 1]).x") }
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard length > 0, length <= maximumRecordLength else { return .invalid("TLS record of \(length) bytes") }
            let end = offset + recordHeaderLength + length
            guard end <= maximumLength else { return .invalid("ClientHello longer than \(maximumLength) bytes") }
            let available = min(end, bytes.count)
            handshake += bytes[(offset + recordHeaderLength)..<available]
            if handshake.count >= 4 {
                guard handshake[0] == clientHelloType else {
                    return .invalid("first handshake message is of type \(handshake[0]), not ClientHello")
                }
                let messageLength = Int(handshake[1]) << 16 | Int(handshake[2]) << 8 | Int(handshake[3])
                guard 4 + messageLength + offset <= maximumLength else {
                    return .invalid("ClientHello of \(messageLength) bytes is longer than \(maximumLength)")
                }
                if handshake.count >= 4 + messageLength {
                    return parseBody(Array(handshake[4..<(4 + messageLength)]))
                }
            }
            guard available == end else { return .needMore }
            offset = end
        }
    }

    /// The ClientHello body: version, random, session id, cipher suites, compression methods, extensions.
    static func parseBody(_ body: [UInt8]) -> TLSClientHelloParse {
        var reader = ReliableByteReader(body)
        guard reader.skip(2 + 32), let sessionID = reader.u8(), reader.skip(Int(sessionID)),
              let suites = reader.u16(), suites >= 2, suites % 2 == 0, reader.skip(Int(suites)),
              let compression = reader.u8(), compression >= 1, reader.skip(Int(compression))
        else { return .invalid("ClientHello cut short before its extensions") }
        var hello = TLSClientHello()
        // TLS 1.0-1.2 allow a hello without extensions.
        guard reader.remaining > 0 else { return .hello(hello) }
        guard let total = reader.u16(), Int(total) == reader.remaining else {
            return .invalid("ClientHello extensions do not fill the message")
        }
        var seen = Set<UInt16>()
        while reader.remaining > 0 {
            guard let type = reader.u16(), let length = reader.u16(), let data = reader.bytes(Int(length)) else {
                return .invalid("ClientHello extension cut short")
            }
            guard seen.insert(type).inserted else { return .invalid("ClientHello repeats extension \(type)") }
            switch type {
            case 0:
                switch serverName(data) {
                case let .success(name): hello.serverName = name
                case let .failure(problem): return .invalid(problem.reason)
                }
            case 16:
                switch protocols(data) {
                case let .success(list): hello.alpn = list
                case let .failure(problem): return .invalid(problem.reason)
                }
            default:
                continue
            }
        }
        return .hello(hello)
    }

    struct Problem: Error {
        let reason: String
    }

    /// RFC 6066 §3: a list of names, of which relayd takes the `host_name` (type 0); a host name is ASCII
    /// letters, digits, hyphens and dots, without a trailing dot.
    static func serverName(_ data: [UInt8]) -> Result<String?, Problem> {
        var reader = ReliableByteReader(data)
        guard let listLength = reader.u16(), Int(listLength) == reader.remaining, listLength > 0 else {
            return .failure(Problem(reason: "server_name list length does not match the extension"))
        }
        var name: String?
        while reader.remaining > 0 {
            guard let type = reader.u8(), let length = reader.u16(), let bytes = reader.bytes(Int(length)) else {
                return .failure(Problem(reason: "server_name entry cut short"))
            }
            guard type == 0 else { continue }
            guard name == nil else { return .failure(Problem(reason: "two host names in server_name")) }
            guard isHostName(bytes) else {
                return .failure(Problem(reason: "server_name host name is not a DNS name"))
            }
            name = String(decoding: bytes.map { lower($0) }, as: UTF8.self)
        }
        return .success(name)
    }

    /// RFC 7301 §3.1: a list of non-empty protocol names.
    static func protocols(_ data: [UInt8]) -> Result<[String], Problem> {
        var reader = ReliableByteReader(data)
        guard let listLength = reader.u16(), Int(listLength) == reader.remaining, listLength >= 2 else {
            return .failure(Problem(reason: "ALPN list length does not match the extension"))
        }
        var list: [String] = []
        while reader.remaining > 0 {
            guard let length = reader.u8(), length > 0, let bytes = reader.bytes(Int(length)) else {
                return .failure(Problem(reason: "ALPN protocol name empty or cut short"))
            }
            list.append(String(decoding: bytes, as: UTF8.self))
        }
        return .success(list)
    }

    /// A DNS host name as SNI carries it (RFC 6066 §3): 1 to 255 ASCII letters, digits, hyphens, underscores and
    /// dots, without a trailing dot.
    public static func isHostName<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        !bytes.isEmpty && bytes.count <= 255 && bytes.allSatisfy { isHostCharacter($0) }
            && bytes.reversed().first != UInt8(ascii: ".")
    }

    static func isHostCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"):
            true
        default:
            false
        }
    }

    static func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }
}
