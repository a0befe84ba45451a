/// Seals and opens the session packets of one direction: AEAD over the payload with the header as associated
/// data when the session is encrypted, the Poly1305 tag alone over header and payload in clear when it is not.
public struct ReliablePacketProtection: Sendable {
    /// The AEAD under this direction's key.
    let aead: any ReliableAEAD
    /// Seal payloads (true) or only authenticate them (false).
    public let encrypted: Bool
    /// The nonce label.
    public let direction: ReliableDirection

    /// Protection under `key` for packets travelling `direction`.
    public init(key: [UInt8], encrypted: Bool, direction: ReliableDirection, cryptography: any ReliableCryptography) {
        aead = cryptography.aead(key: key)
        self.encrypted = encrypted
        self.direction = direction
    }

    /// Protects `packet` (header, payload, 16 bytes of room for the tag) in place.
    public func protect(_ packet: inout [UInt8], packetNumber: UInt32) {
        precondition(packet.count >= ReliableWire.sessionOverhead, "a session packet without room for its tag")
        let nonce = direction.nonce(packetNumber: packetNumber)
        if encrypted {
            aead.seal(&packet, associatedCount: ReliableWire.headerSize, nonce: nonce)
        } else {
            aead.authenticate(&packet, nonce: nonce)
        }
    }

    /// Verifies `packet`'s tag and, when encrypted, decrypts its payload in place. False on a bad tag (or a
    /// packet too short to have one), leaving the bytes as they were.
    public func unprotect(_ packet: inout [UInt8], packetNumber: UInt32) -> Bool {
        guard packet.count >= ReliableWire.sessionOverhead else { return false }
        let nonce = direction.nonce(packetNumber: packetNumber)
        if encrypted {
            return aead.open(&packet, associatedCount: ReliableWire.headerSize, nonce: nonce)
        }
        return aead.verify(packet, nonce: nonce)
    }
}
