import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// A kernel pipe used to move bytes socket → pipe → socket with `splice(2)`, without copying them
/// through user space. Costs two descriptors per direction, which is why relaying with it is optional
/// (and off by default: on loopback it measured slower than copying through a pooled buffer).
public final class SplicePipe {
    let readFD: Int32
    let writeFD: Int32
    /// Bytes moved into the pipe and not yet out of it.
    private(set) var pending = 0
    /// Largest chunk moved per call.
    let chunk: Int

    public init(size: Int = 1 << 20) throws(IOError) {
        var fds: [Int32] = [-1, -1]
        try syscall("pipe2") { crelay_pipe(&fds, Int32(size)) }
        readFD = fds[0]
        writeFD = fds[1]
        chunk = size
    }

    deinit {
        SocketOptions.close(readFD)
        SocketOptions.close(writeFD)
    }

    /// Copies `source` to `destination` through the pipe until end of stream; returns the byte count.
    /// `onChunk` is called after each chunk moved into the pipe, with its size.
    public func relay(from source: TCPConnection, to destination: TCPConnection,
                      onChunk: ((Int) -> Void)? = nil) async throws -> Int {
        var total = 0
        while true {
            if pending == 0 {
                switch try syscallNonBlocking("splice(in)", { crelay_splice(source.fd, writeFD, chunk, 1) }) {
                case .processed(0):
                    return total
                case let .processed(count):
                    pending = count
                    onChunk?(count)
                case .wouldBlock:
                    try await source.registration.wait(for: .read)
                    continue
                }
            }
            while pending > 0 {
                switch try syscallNonBlocking("splice(out)", { crelay_splice(readFD, destination.fd, pending, 0) }) {
                case let .processed(count):
                    pending -= count
                    total += count
                case .wouldBlock:
                    try await destination.registration.wait(for: .write)
                }
            }
        }
    }
}
