/// The IP part of an address, hashable and cheap to copy: the key of per-IP connection counts.
public struct IPKey: Sendable, Hashable {
    public let high: UInt64
    public let low: UInt64
    public let isIPv6: Bool
}
