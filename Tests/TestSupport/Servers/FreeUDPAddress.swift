import Foundation
import RelayIO
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A loopback address with a UDP port that no socket holds, for a relay's UDP listener: use it instead of port 0.
///
/// A relay binds its UDP listener's sockets with `SO_REUSEPORT`. Two relays of tests running in parallel on one port
/// would each get some of the other's datagrams; and a port the kernel picks for port 0 is the kind another test's
/// client, backend or relay may also be given, before the relay binds it or after it stops. So the port comes from
/// below the kernel's range for port 0, is checked free, and is never handed out twice in one run.
public func freeUDPAddress(ip: String = "127.0.0.1") throws -> SocketAddress {
    // Outside the kernel's range for port 0 (ip_local_port_range): no socket of any test asking for port 0 (a relay
    // listening on port 0, a client, a backend) can be given this port before the relay binds it, nor after the
    // relay stops (a client of the test still sending would reach a stranger). Never the same port twice in one run.
    let range = ephemeralPortRange()
    if range.lowerBound > 10_000 {
        for _ in 0..<256 {
            let port = UInt16.random(in: 10_000..<range.lowerBound)
            let candidate = try SocketAddress(ip: ip, port: port)
            // Checked and taken under the lock: a check binds the port for a moment, and must never do so after
            // another caller handed it out (that test's relay may be binding it right then).
            let taken = try handedOutUDPPorts.withLock { handedOut -> Bool in
                guard !handedOut.contains(port), try isFreeUDPPort(candidate) else { return false }
                handedOut.insert(port)
                return true
            }
            if taken { return candidate }
        }
    }
    // A machine whose ephemeral range starts low: the kernel's pick, held while it picks again when repeated.
    let address = try SocketAddress(ip: ip, port: 0)
    var held: [Int32] = []
    defer { held.forEach { close($0) } }
    for _ in 0..<64 {
        let fd = try boundUDPSocket(address)
        held.append(fd)
        let picked = try localAddress(fd)
        if handedOutUDPPorts.withLock({ $0.insert(picked.port).inserted }) { return picked }
    }
    throw TestFailure("no UDP port on \(ip) that this run has not handed out already, after 64 tries")
}

/// The ports `freeUDPAddress` gave out in this process.
private let handedOutUDPPorts = Mutex<Set<UInt16>>([])

/// The kernel's range for port 0 (`net.ipv4.ip_local_port_range`; Linux's default when unreadable).
private func ephemeralPortRange() -> ClosedRange<UInt16> {
    let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
    let fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
    guard fields.count == 2, let first = UInt16(fields[0]), let last = UInt16(fields[1]), first <= last else {
        return 32_768...60_999
    }
    return first...last
}

/// Whether a plain UDP socket can bind `address` now.
private func isFreeUDPPort(_ address: SocketAddress) throws -> Bool {
    let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw IOError.syscall(call: "socket", errno: errno) }
    defer { close(fd) }
    return address.withSockAddr({ bind(fd, $0, $1) }) == 0
}

/// A plain UDP socket bound to `address`.
private func boundUDPSocket(_ address: SocketAddress) throws -> Int32 {
    let fd = socket(address.family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { throw IOError.syscall(call: "socket", errno: errno) }
    guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else {
        let code = errno
        close(fd)
        throw IOError.syscall(call: "bind", errno: code)
    }
    return fd
}

/// The address `fd` is bound to.
private func localAddress(_ fd: Int32) throws -> SocketAddress {
    var storage = sockaddr_storage()
    var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let named = withUnsafeMutablePointer(to: &storage) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    guard named == 0 else { throw IOError.syscall(call: "getsockname", errno: errno) }
    return SocketAddress(storage: storage, length: length)
}
