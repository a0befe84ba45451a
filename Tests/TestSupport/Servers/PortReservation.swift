import RelayIO

#if canImport(Glibc)
import Glibc
#endif

/// A loopback port held by a socket that never answers: bound but not listening (TCP) or connected to itself
/// (UDP), so connections are refused and datagrams draw "port unreachable", as from a dead server; and,
/// unlike a port that was bound and closed, no other socket of the test run can take it meanwhile (a test
/// running in parallel binding port 0, or a connection's ephemeral port: a connection to itself would make the
/// dead server answer).
///
/// Closed on `release()` or when the reservation goes away.
public final class PortReservation: Sendable {
    /// The reserved address.
    public let address: SocketAddress
    private let fd: Int32

    public enum Kind: Sendable {
        case tcp, udp
    }

    /// Reserves `address` (port 0: any free port). With `reusePort` (TCP only), the port can be shared with a
    /// listener that also set `SO_REUSEPORT`: a reservation can then take over a live backend's port before it
    /// stops, and a new backend can take it back before the reservation is released. Not for UDP: a UDP socket
    /// asking for port 0 with `SO_REUSEPORT` may be given one held by another such socket (see `freeUDPAddress`).
    public init(_ kind: Kind, _ address: SocketAddress, reusePort: Bool = false) throws {
        let type = kind == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = socket(address.family, type | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError.syscall(call: "socket", errno: errno) }
        do {
            var one: Int32 = 1
            if reusePort, setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw IOError.syscall(call: "setsockopt", errno: errno)
            }
            guard address.withSockAddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
                throw IOError.syscall(call: "bind", errno: errno)
            }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            guard named == 0 else { throw IOError.syscall(call: "getsockname", errno: errno) }
            let bound = SocketAddress(storage: storage, length: length)
            // A UDP socket connected to itself takes datagrams from nobody else: the kernel answers them with
            // port unreachable, as for a closed port.
            if kind == .udp, bound.withSockAddr({ Glibc.connect(fd, $0, $1) }) != 0 {
                throw IOError.syscall(call: "connect", errno: errno)
            }
            self.address = bound
        } catch {
            Glibc.close(fd)
            throw error
        }
        self.fd = fd
    }

    /// Reserves a free port of `ip`.
    public convenience init(_ kind: Kind, ip: String = "127.0.0.1") throws {
        try self.init(kind, try SocketAddress(ip: ip, port: 0))
    }

    private let released = SanitizerVisibleMutex(false)

    /// Gives the port back (idempotent).
    public func release() {
        let first = released.withLock { released in
            defer { released = true }
            return !released
        }
        if first { Glibc.close(fd) }
    }

    deinit {
        release()
    }
}

/// Reservations behind `deadAddress` and `keepDead`, kept for the whole run: a few hundred descriptors.
private let deadAddresses = SanitizerVisibleMutex<[PortReservation]>([])

/// A loopback TCP address where nothing listens, and nothing will for the rest of the test run: connecting is
/// refused. Each call returns another address.
public func deadAddress(ip: String = "127.0.0.1") throws -> SocketAddress {
    let reservation = try PortReservation(.tcp, ip: ip)
    deadAddresses.withLock { $0.append(reservation) }
    return reservation.address
}

/// Takes `address` for the rest of the run, as a closed port, if it is free (a test that stopped a server there and
/// took the port itself keeps it).
public func keepDead(_ kind: PortReservation.Kind, _ address: SocketAddress) {
    guard let reservation = try? PortReservation(kind, address) else { return }
    deadAddresses.withLock { $0.append(reservation) }
}
