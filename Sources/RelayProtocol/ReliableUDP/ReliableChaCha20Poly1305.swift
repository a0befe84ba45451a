/// ChaCha20-Poly1305 (RFC 8439 §2.8) as `ReliableAEAD`: seals and opens a packet in its own buffer, the header as
/// associated data, the tag in the last 16 bytes, allocating nothing per packet.
struct ReliableChaCha20Poly1305: ReliableAEAD {
    /// The AEAD under one direction's session key.
    let aead: ChaCha20Poly1305

    /// The AEAD under a 32-byte key.
    init(key: [UInt8]) {
        aead = ChaCha20Poly1305(key: key)
    }

    func seal(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8]) {
        let end = packet.count - ReliableWire.tagSize
        packet.withUnsafeMutableBytes { bytes in
            aead.seal(
                nonce: nonce, inPlace: UnsafeMutableRawBufferPointer(rebasing: bytes[associatedCount..<end]),
                authenticating: UnsafeRawBufferPointer(rebasing: bytes[..<associatedCount]),
                tag: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]))
        }
    }

    func open(_ packet: inout [UInt8], associatedCount: Int, nonce: [UInt8]) -> Bool {
        let end = packet.count - ReliableWire.tagSize
        return packet.withUnsafeMutableBytes { bytes in
            aead.open(
                nonce: nonce, inPlace: UnsafeMutableRawBufferPointer(rebasing: bytes[associatedCount..<end]),
                authenticating: UnsafeRawBufferPointer(rebasing: bytes[..<associatedCount]),
                tag: UnsafeRawBufferPointer(rebasing: bytes[end...]))
        }
    }

    func authenticate(_ packet: inout [UInt8], nonce: [UInt8]) {
        let end = packet.count - ReliableWire.tagSize
        packet.withUnsafeMutableBytes { bytes in
            aead.authenticateOnly(
                nonce: nonce, message: UnsafeRawBufferPointer(rebasing: bytes[..<end]),
                tag: UnsafeMutableRawBufferPointer(rebasing: bytes[end...]))
        }
    }

    func verify(_ packet: [UInt8], nonce: [UInt8]) -> Bool {
        let end = packet.count - ReliableWire.tagSize
        return packet.withUnsafeBytes { bytes in
            aead.verifyAuthenticateOnly(
                tag: UnsafeRawBufferPointer(rebasing: bytes[end...]), nonce: nonce,
                message: UnsafeRawBufferPointer(rebasing: bytes[..<end]))
        }
    }
}
