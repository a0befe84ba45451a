/// A peer's network address as the protocol sees it: opaque bytes, compared and MAC'd, never interpreted.
///
/// The I/O layer chooses a stable encoding (family, address, port); the protocol only needs two addresses of
/// the same peer to be equal and two different ones to differ, for the cookie and for NAT rebinding.
public struct ReliablePeerAddress: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The encoded address; at most 255 bytes.
    public var bytes: [UInt8]

    /// An address from its encoding.
    public init(_ bytes: [UInt8]) {
        precondition(bytes.count <= 255, "an address encoding longer than 255 bytes")
        self.bytes = bytes
    }

    /// The bytes in hex, for logs and test failures.
    public var description: String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }
            .joined()
    }
}
