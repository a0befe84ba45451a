#if canImport(Glibc)
import Glibc
#endif

/// Resolves host names to socket addresses with the system resolver (`getaddrinfo`: `/etc/hosts`, DNS and
/// whatever else `nsswitch.conf` names).
///
/// `getaddrinfo` blocks, for seconds when a DNS server does not answer, so each lookup runs on a thread of its own
/// rather than on the cooperative pool or an event loop. A task cancelled while waiting gets `CancellationError`
/// at once; its lookup finishes in the background and the answer is dropped.
public enum HostResolver {
    /// The IPv4 and IPv6 addresses of `host`, each with `port`, in the order the resolver prefers them, each
    /// once. `host` may also be an IP literal (without brackets), which resolves to itself.
    ///
    /// Addresses are not limited to the families configured on a local interface (`AI_ADDRCONFIG` is off), so
    /// `localhost` resolves on a machine with nothing but loopback. Throws `IOError.nameResolution` with the
    /// resolver's reason when the name does not resolve.
    public static func resolve(_ host: String, port: UInt16) async throws -> [SocketAddress] {
        try await resolve(host, port: port, flags: 0)
    }

    /// `resolve` with extra `getaddrinfo` flags (tests use `AI_NUMERICHOST` to fail without any network).
    static func resolve(_ host: String, port: UInt16, flags: Int32) async throws -> [SocketAddress] {
        let lookup = Lookup(host: host, flags: flags)
        let addresses = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lookup.start(continuation)
            }
        } onCancel: {
            lookup.cancel()
        }
        return addresses.map { $0.withPort(port) }
    }

    /// The addresses of `host` with port 0, in resolver order without repeats; blocks while the resolver works.
    static func lookUp(_ host: String, flags: Int32) throws(IOError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = flags
        var list: UnsafeMutablePointer<addrinfo>?
        let code = getaddrinfo(host, nil, &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        if code == EAI_SYSTEM { throw IOError.syscall(call: "getaddrinfo", errno: errno) }
        guard code == 0 else {
            throw IOError.nameResolution(host: host, reason: String(cString: gai_strerror(code)))
        }
        var addresses: [SocketAddress] = []
        var seen: Set<SocketAddress> = []
        var next = list
        while let info = next {
            next = info.pointee.ai_next
            let family = info.pointee.ai_family
            guard family == AF_INET || family == AF_INET6, let raw = info.pointee.ai_addr else { continue }
            let length = Int(info.pointee.ai_addrlen)
            guard length > 0, length <= MemoryLayout<sockaddr_storage>.size else { continue }
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: length))
            }
            let address = SocketAddress(storage: storage, length: socklen_t(length))
            if seen.insert(address).inserted { addresses.append(address) }
        }
        guard !addresses.isEmpty else {
            throw IOError.nameResolution(host: host, reason: "no IPv4 or IPv6 address")
        }
        return addresses
    }
}
