#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, or an I/O operation that ended for a reason of its own (closed, timed out).
///
/// Errors say which call failed and with which errno, so a log line can tell an operator what went
/// wrong; `isTransientResourceShortage` tells the accept loop when to back off instead of failing.
public enum IOError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A system call failed; `call` is its name (`connect`, `accept4`...), `errno` its error number.
    case syscall(call: String, errno: Int32)
    /// The socket was closed or aborted while the operation was waiting on it.
    case closed
    /// The operation did not complete before its deadline.
    case timedOut
    /// An address could not be parsed or used.
    case invalidAddress(String)
    /// A host name did not resolve; `reason` is the resolver's own words (`gai_strerror`), such as
    /// `Name or service not known`.
    case nameResolution(host: String, reason: String)

    public var description: String {
        switch self {
        case let .syscall(call, code):
            return "\(call): \(String(cString: strerror(code))) (errno \(code))"
        case .closed:
            return "socket closed"
        case .timedOut:
            return "timed out"
        case let .invalidAddress(text):
            return "invalid address: \(text)"
        case let .nameResolution(host, reason):
            return "cannot resolve \(host): \(reason)"
        }
    }

    /// The errno of a failed call, if this is one.
    public var errno: Int32? {
        if case let .syscall(_, code) = self { return code }
        return nil
    }

    /// The process or the system ran out of descriptors or memory: wait and try again.
    public var isTransientResourceShortage: Bool {
        guard let code = errno else { return false }
        return code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
    }

    /// Whose failure this is: relayd's own (it ran short of something on this machine) or the peer's and
    /// the path to it. The one place that decides it, so a server is never blamed for relayd's shortage.
    public var origin: IOFailureOrigin {
        guard let code = errno else { return .remote }
        switch code {
        case EMFILE: return .local(.fileDescriptors)
        case ENFILE: return .local(.systemFileDescriptors)
        case ENOBUFS, ENOMEM: return .local(.memory)
        // connect(2) found no free local port (or the source address is gone): nothing the server did.
        case EADDRNOTAVAIL, EADDRINUSE: return .local(.ephemeralPorts)
        default: return .remote
        }
    }
}

/// Who an I/O failure is to be blamed on.
public enum IOFailureOrigin: Sendable, Equatable {
    /// relayd itself ran short of `LocalResource`; the peer may be perfectly healthy.
    case local(LocalResource)
    /// The peer, or the network between relayd and it.
    case remote

    /// The resource relayd ran out of, when the failure is its own.
    public var localResource: LocalResource? {
        if case let .local(resource) = self { return resource }
        return nil
    }
}

/// What relayd can run short of on its own machine.
public enum LocalResource: String, Sendable, CaseIterable {
    /// The process's open-files limit (EMFILE).
    case fileDescriptors = "file_descriptors"
    /// The system-wide open-files table (ENFILE).
    case systemFileDescriptors = "system_file_descriptors"
    /// Kernel socket buffers or memory (ENOBUFS, ENOMEM).
    case memory
    /// Local ports for outgoing connections (EADDRNOTAVAIL, EADDRINUSE on connect).
    case ephemeralPorts = "ephemeral_ports"

    /// What ran out, in words.
    public var phrase: String {
        switch self {
        case .fileDescriptors: return "file descriptors"
        case .systemFileDescriptors: return "system-wide file descriptors"
        case .memory: return "socket memory"
        case .ephemeralPorts: return "local ports"
        }
    }

    /// What to do about it, for a log line.
    public var hint: String {
        switch self {
        case .fileDescriptors:
            return "raise the open-files limit (ulimit -n, LimitNOFILE) or lower max_connections"
        case .systemFileDescriptors:
            return "the whole system is out of open files: raise fs.file-max or find the process holding them"
        case .memory:
            return "the kernel is out of socket memory: check net.ipv4.tcp_mem and the machine's memory"
        case .ephemeralPorts:
            return "out of local ports to the server: widen net.ipv4.ip_local_port_range, enable a connection pool, "
                + "or add servers"
        }
    }
}

/// The outcome of a non-blocking call: it did something, or it would have had to block.
@frozen public enum IOResult<Value: Sendable>: Sendable {
    case processed(Value)
    case wouldBlock
}

/// Runs `body` (a raw syscall returning -1 on failure), retrying EINTR. EAGAIN becomes `.wouldBlock`;
/// any other errno becomes `IOError.syscall` named `call`.

func syscallNonBlocking<T: FixedWidthInteger & Sendable>(_ call: @autoclosure () -> String,
                                                         _ body: () -> T) throws(IOError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .processed(result) }
        let code = Glibc.errno
        if code == EINTR { continue }
        if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
        throw IOError.syscall(call: call(), errno: code)
    }
}

/// Runs `body` (a raw syscall returning -1 on failure), retrying EINTR; any failure throws.

@discardableResult
func syscall<T: FixedWidthInteger>(_ call: @autoclosure () -> String, _ body: () -> T) throws(IOError) -> T {
    while true {
        let result = body()
        if result >= 0 { return result }
        let code = Glibc.errno
        if code == EINTR { continue }
        throw IOError.syscall(call: call(), errno: code)
    }
}
