import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback address with a UDP port that no socket holds, for a relay's UDP listener: use it instead of port 0.
///
/// relayd binds a UDP listener's sockets with `SO_REUSEPORT`, and when such a socket asks for port 0 the kernel may
/// pick a port that another `SO_REUSEPORT` UDP socket of the same user already holds (it never does for TCP): two
/// relays of tests running in parallel then share one port and each gets some of the other's datagrams. The port
/// here is the kernel's pick for a plain socket, which no other socket holds, given back at once: only another test
/// binding in that instant could take it.
public func freeUDPAddress(ip: String = "127.0.0.1") throws -> SocketAddress {
    let address = try SocketAddress(ip: ip, port: 0)
    // The kernel may pick a port it picked a moment ago for another test of this process, once that test's probe
    // socket was closed; both relays would then bind it with `SO_REUSEPORT` and share it. So no port is handed out
    // twice in one run: a repeated pick is held open while the kernel is asked again.
    var held: [Int32] = []
    defer { held.forEach { close($0) } }
    for _ in 0..<64 {
        let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.syscall(call: "socket", errno: errno) }
        held.append(fd)
        guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else { throw IOError.syscall(call: "bind", errno: errno) }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw IOError.syscall(call: "getsockname", errno: errno) }
        let picked = SocketAddress(storage: storage, length: length)
        if handedOutUDPPorts.withLock({ $0.insert(picked.port).inserted }) { return picked }
    }
    throw TestFailure("no UDP port on \(ip) that this run has not handed out already, after 64 tries")
}

/// The ports `freeUDPAddress` gave out in this process.
private let handedOutUDPPorts = Mutex<Set<UInt16>>([])
