#if canImport(Glibc)
import Glibc
#endif

extension Endpoint {
    /// The endpoint for a raw address (4 bytes for IPv4, 16 for IPv6) and a port, with the host in canonical form.
    init(addressBytes bytes: [UInt8], port: UInt16) {
        let isIPv6 = bytes.count == 16
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        _ = bytes.withUnsafeBytes { address in
            inet_ntop(isIPv6 ? AF_INET6 : AF_INET, address.baseAddress, &buffer, socklen_t(buffer.count))
        }
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.init(host: host, port: port, isIPv6: isIPv6)
    }
}
