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
