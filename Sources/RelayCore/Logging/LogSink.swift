#if canImport(Glibc)
import Glibc
#endif

/// Where log lines go. Each line is written with a single `write(2)` so lines from different threads
/// never interleave.
public struct LogSink: Sendable {
    private let writeLine: @Sendable (String) -> Void

    public init(_ writeLine: @escaping @Sendable (String) -> Void) {
        self.writeLine = writeLine
    }

    public func write(_ line: String) { writeLine(line) }

    /// The process's stderr.
    public static let standardError = LogSink { line in write(line, to: 2) }

    /// Writes `line` whole to `fd` (retrying short writes and interruptions); a failing destination drops it.
    static func write(_ line: String, to fd: Int32) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }

    /// Keeps lines in memory; tests read them back with `LogCapture.lines`.
    public static func capture(_ capture: LogCapture) -> LogSink {
        LogSink { line in capture.append(line) }
    }
}
