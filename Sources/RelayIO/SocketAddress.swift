#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 socket address (IP and port).
///
/// Stored in the room of a `sockaddr_in6` (28 bytes, which also holds a `sockaddr_in`), not in a
/// 128-byte `sockaddr_storage`: every connection, flow and async frame that keeps an address pays for
/// its size.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The raw address; only the first `length` bytes are meaningful.
    private var raw: sockaddr_in6
    /// Bytes of the address in use: `sizeof(sockaddr_in)` or `sizeof(sockaddr_in6)`.
    public private(set) var length: socklen_t

    /// Wraps an address the kernel filled in (accept, getsockname, recvmsg). Only IPv4 and IPv6
    /// addresses fit; the bytes beyond a `sockaddr_in6` of any other family are dropped.
    public init(storage: sockaddr_storage, length: socklen_t) {
        var raw = sockaddr_in6()
        let kept = min(Int(length), MemoryLayout<sockaddr_in6>.size)
        withUnsafeBytes(of: storage) { source in
            withUnsafeMutableBytes(of: &raw) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<kept]))
            }
        }
        self.raw = raw
        self.length = socklen_t(kept)
    }

    /// The address as the kernel's `sockaddr_storage` (for `msghdr` arrays that hold one per slot).
    public var storage: sockaddr_storage {
        var storage = sockaddr_storage()
        withUnsafeBytes(of: raw) { source in
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<Int(length)]))
            }
        }
        return storage
    }

    /// Parses an IP literal (`127.0.0.1`, `::1`, without brackets) and a port.
    public init(ip: String, port: UInt16) throws(IOError) {
        var storage = sockaddr_storage()
        if ip.contains(":") {
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, ip, &addr.sin6_addr) == 1 else { throw IOError.invalidAddress(ip) }
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: addr, as: sockaddr_in6.self)
            }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        } else {
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            guard inet_pton(AF_INET, ip, &addr.sin_addr) == 1 else { throw IOError.invalidAddress(ip) }
            withUnsafeMutableBytes(of: &storage) { raw in
                raw.storeBytes(of: addr, as: sockaddr_in.self)
            }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }

    /// An address from its bytes in network order (4 for IPv4, 16 for IPv6) and a port; nil for other counts.
    public init?(addressBytes bytes: [UInt8], port: UInt16) {
        var storage = sockaddr_storage()
        switch bytes.count {
        case 4:
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &addr.sin_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: addr, as: sockaddr_in.self) }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in>.size))
        case 16:
            var addr = sockaddr_in6()
            addr.sin6_family = sa_family_t(AF_INET6)
            addr.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &addr.sin6_addr) { $0.copyBytes(from: bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: addr, as: sockaddr_in6.self) }
            self.init(storage: storage, length: socklen_t(MemoryLayout<sockaddr_in6>.size))
        default:
            return nil
        }
    }

    /// The IP's bytes in network order: 4 for IPv4, 16 for IPv6.
    public var addressBytes: [UInt8] {
        withUnsafeBytes(of: raw) { raw in
            if family == AF_INET6 {
                return withUnsafeBytes(of: raw.load(as: sockaddr_in6.self).sin6_addr) { Array($0) }
            }
            return withUnsafeBytes(of: raw.load(as: sockaddr_in.self).sin_addr) { Array($0) }
        }
    }

    /// Parses `host:port` or `[v6]:port` where host is an IP literal.
    public init(parsing text: String) throws(IOError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  text.index(after: close) < text.endIndex,
                  text[text.index(after: close)] == ":" else { throw IOError.invalidAddress(text) }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), text.firstIndex(of: ":") == colon else {
                throw IOError.invalidAddress(text)
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = UInt16(portText) else { throw IOError.invalidAddress(text) }
        try self.init(ip: String(host), port: port)
    }

    /// `AF_INET` or `AF_INET6`.
    public var family: Int32 { Int32(raw.sin6_family) }

    public var isIPv6: Bool { family == AF_INET6 }

    /// The port, in host byte order.
    public var port: UInt16 {
        withUnsafeBytes(of: raw) { raw in
            if family == AF_INET6 {
                return UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port)
            }
            return UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port)
        }
    }

    /// A copy with another port (used to bind every per-loop socket to the port the first one got).
    public func withPort(_ port: UInt16) -> SocketAddress {
        var copy = self
        withUnsafeMutableBytes(of: &copy.raw) { raw in
            if family == AF_INET6 {
                var addr = raw.load(as: sockaddr_in6.self)
                addr.sin6_port = port.bigEndian
                raw.storeBytes(of: addr, as: sockaddr_in6.self)
            } else {
                var addr = raw.load(as: sockaddr_in.self)
                addr.sin_port = port.bigEndian
                raw.storeBytes(of: addr, as: sockaddr_in.self)
            }
        }
        return copy
    }

    /// The IP as text, without brackets or port.
    public var ip: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: raw) { raw in
            if family == AF_INET6 {
                var addr = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &addr, &buffer, socklen_t(buffer.count))
            } else {
                var addr = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &addr, &buffer, socklen_t(buffer.count))
            }
        }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A compact key for the IP alone (per-IP limits); IPv4 in its 4 bytes, IPv6 in its 16.
    public var ipKey: IPKey {
        withUnsafeBytes(of: raw) { raw in
            if family == AF_INET6 {
                let addr = raw.load(as: sockaddr_in6.self).sin6_addr
                return withUnsafeBytes(of: addr) { bytes in
                    IPKey(high: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                          low: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self), isIPv6: true)
                }
            }
            let addr = raw.load(as: sockaddr_in.self).sin_addr
            return IPKey(high: 0, low: UInt64(addr.s_addr), isIPv6: false)
        }
    }

    /// `127.0.0.1:80` or `[::1]:80`.
    public var description: String {
        isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        guard lhs.length == rhs.length else { return false }
        return withUnsafeBytes(of: lhs.raw) { l in
            withUnsafeBytes(of: rhs.raw) { r in
                memcmp(l.baseAddress!, r.baseAddress!, Int(lhs.length)) == 0
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes(of: raw) { raw in
            hasher.combine(bytes: UnsafeRawBufferPointer(rebasing: raw[0..<Int(length)]))
        }
    }

    /// Calls `body` with the address as a `sockaddr` pointer and its length.
    public func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: raw) { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
