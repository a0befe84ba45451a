import Foundation

/// Standard input's lines, read by a thread of their own (reading stdin blocks) and handed over one at a time:
/// the thread reads the next line only once the previous one was taken, so a fast producer piping into
/// `relayd connect` never fills memory.
final class StandardInputLines: @unchecked Sendable {
    // @unchecked: `iterator` is used by the one task that calls `next()`; the semaphore is thread-safe.
    private var iterator: AsyncStream<String>.Iterator
    private let taken = DispatchSemaphore(value: 0)

    init() {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .unbounded)
        iterator = stream.makeAsyncIterator()
        let taken = self.taken
        let thread = Thread {
            while let line = readLine(strippingNewline: true) {
                continuation.yield(line)
                taken.wait()
            }
            continuation.finish()
        }
        thread.name = "stdin"
        thread.start()
    }

    /// The next line, without its newline; nil at the end of input. One task at a time.
    func next() async -> String? {
        guard let line = await iterator.next() else { return nil }
        taken.signal()
        return line
    }
}
