import RelayIO
import RelayProtocol

#if canImport(Glibc)
import Glibc
#endif

extension SocketAddress {
    /// The address as the reliable-UDP protocol sees it (cookies are MACs of it; a session compares it to notice
    /// NAT rebinding): the family (4 or 6), the port (2 bytes), the IP (4 or 16 bytes) and, for IPv6, the scope
    /// id (4 bytes), so two addresses are equal exactly when they name the same endpoint.
    var reliablePeer: ReliablePeerAddress {
        withUnsafeBytes(of: storage) { raw in
            var bytes: [UInt8] = []
            if isIPv6 {
                let address = raw.load(as: sockaddr_in6.self)
                bytes.reserveCapacity(23)
                bytes.append(6)
                withUnsafeBytes(of: address.sin6_port) { bytes.append(contentsOf: $0) }
                withUnsafeBytes(of: address.sin6_addr) { bytes.append(contentsOf: $0) }
                withUnsafeBytes(of: address.sin6_scope_id.bigEndian) { bytes.append(contentsOf: $0) }
            } else {
                let address = raw.load(as: sockaddr_in.self)
                bytes.reserveCapacity(7)
                bytes.append(4)
                withUnsafeBytes(of: address.sin_port) { bytes.append(contentsOf: $0) }
                withUnsafeBytes(of: address.sin_addr) { bytes.append(contentsOf: $0) }
            }
            return ReliablePeerAddress(bytes)
        }
    }
}
