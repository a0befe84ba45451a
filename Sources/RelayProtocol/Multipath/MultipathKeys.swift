/// The two authentication keys of one client, derived from its pre-shared key, and the tag they make.
///
/// **Construction.** Each direction has its own 32-byte key, `HKDF-SHA256(IKM = client key, salt = none,
/// info = "relayd multipath v1 client to server" or "… server to client")` (RFC 5869), and a frame's tag is
/// HMAC-SHA256 (RFC 2104) under its direction's key over every byte before the tag, truncated to its first 16
/// bytes (RFC 2104 §5 allows truncation to half the output; RFC 4868 uses exactly this HMAC-SHA-256-128 for IPsec).
/// Tags are compared in constant time.
///
/// **Why HMAC and not Poly1305.** ChaCha20-Poly1305's `authenticateOnly` is about ten times faster here, but it
/// is safe only while no nonce ever repeats under a key, and this protocol has no handshake: both ends keep
/// long-lived keys, restart independently, expire per-client state and may run several event loops. A nonce
/// taken from a sequence counter repeats the first time any of that goes wrong, and a repeated Poly1305 key lets
/// an observer forge frames. HMAC needs no nonce: a repeated sequence number costs a frame dropped as a replay,
/// never a forgery. docs/multipath.md gives the figures.
///
/// Keyed HMAC values keep their pads absorbed (`HMACSHA256` precomputes them), so a tag costs the frame's bytes
/// and two compressions, and building these keys is done once per client, not per frame.
public struct MultipathKeys: Sendable {
    /// HKDF `info` for the client-to-server key.
    static let clientToServerInfo = Array("relayd multipath v1 client to server".utf8)
    /// HKDF `info` for the server-to-client key.
    static let serverToClientInfo = Array("relayd multipath v1 server to client".utf8)

    /// HMAC keyed for frames from the client.
    private let clientToServer: HMACSHA256
    /// HMAC keyed for frames from the server.
    private let serverToClient: HMACSHA256

    /// The keys for the client whose pre-shared key is `clientKey` (32 bytes, as the keys file gives it; a key of
    /// another length is the caller's bug, checked when the file is read).
    public init(clientKey: [UInt8]) {
        precondition(clientKey.count == MultipathWire.keySize, "a client key has 32 bytes, not \(clientKey.count)")
        clientToServer = HMACSHA256(key: Self.derive(clientKey, info: Self.clientToServerInfo))
        serverToClient = HMACSHA256(key: Self.derive(clientKey, info: Self.serverToClientInfo))
    }

    /// The 32-byte key for one direction.
    static func derive(_ clientKey: [UInt8], info: [UInt8]) -> [UInt8] {
        HKDF.deriveKey(inputKeyMaterial: clientKey, salt: [UInt8](), info: info, length: 32)
    }

    /// Writes the 16-byte tag of `message` for `direction` to `tag`.
    func writeTag(of message: UnsafeRawBufferPointer, direction: MultipathDirection,
                  into tag: UnsafeMutableRawBufferPointer) {
        precondition(tag.count == MultipathWire.tagSize, "a tag has 16 bytes, not \(tag.count)")
        var mac = direction == .clientToServer ? clientToServer : serverToClient
        mac.update(message)
        withUnsafeTemporaryAllocation(byteCount: HMACSHA256.byteCount, alignment: 8) { full in
            mac.finalize(into: full)
            tag.copyMemory(from: UnsafeRawBufferPointer(rebasing: full[..<MultipathWire.tagSize]))
        }
    }

    /// Whether the last 16 bytes of `datagram` are the tag of the bytes before them for `direction`, compared in
    /// constant time. A datagram shorter than a tag is not authentic.
    public func isAuthentic(_ datagram: UnsafeRawBufferPointer, direction: MultipathDirection) -> Bool {
        guard datagram.count >= MultipathWire.tagSize else { return false }
        let split = datagram.count - MultipathWire.tagSize
        return withUnsafeTemporaryAllocation(byteCount: MultipathWire.tagSize, alignment: 8) { expected in
            writeTag(of: UnsafeRawBufferPointer(rebasing: datagram[..<split]), direction: direction, into: expected)
            return ConstantTime.equal(UnsafeRawBufferPointer(expected),
                                      UnsafeRawBufferPointer(rebasing: datagram[split...]))
        }
    }

    /// Whether `datagram` ends with its tag for `direction`.
    public func isAuthentic(_ datagram: [UInt8], direction: MultipathDirection) -> Bool {
        datagram.withUnsafeBytes { isAuthentic($0, direction: direction) }
    }
}
