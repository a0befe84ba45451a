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
