#if canImport(Glibc)
import Glibc
#endif

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
