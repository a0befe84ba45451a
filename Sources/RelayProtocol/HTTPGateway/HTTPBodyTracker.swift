/// Follows one message body as it streams through a proxy: says how many of the bytes that arrive belong to it
/// and when it is complete, whatever its framing, holding none of it.
public struct HTTPBodyTracker: Sendable, Equatable {
    enum State: Sendable, Equatable {
        case length(remaining: Int)
        case chunked(HTTPChunkedScanner)
        case untilClose
        case complete
    }

    private(set) var state: State
    /// Body bytes seen so far (framing included for a chunked body).
    public private(set) var bytes = 0

    public init(_ body: HTTPMessageBody) {
        switch body {
        case .none: state = .complete
        case let .length(length): state = length > 0 ? .length(remaining: length) : .complete
        case .chunked: state = .chunked(HTTPChunkedScanner())
        case .untilClose: state = .untilClose
        }
    }

    /// True once the whole body has gone by (never for a body that runs until the close).
    public var isComplete: Bool { state == .complete }

    /// Whether the body ends only when its sender closes the connection.
    public var endsAtClose: Bool { state == .untilClose }

    /// Takes the next bytes that arrived after what was taken before; returns how many of them are body (the rest
    /// start the next message). Throws on chunked framing that is not chunked syntax.
    public mutating func take(_ buffer: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        let taken: Int
        switch state {
        case .complete:
            return 0
        case let .length(remaining):
            taken = min(remaining, buffer.count)
            state = remaining == taken ? .complete : .length(remaining: remaining - taken)
        case var .chunked(scanner):
            taken = try scanner.scan(buffer)
            state = scanner.isDone ? .complete : .chunked(scanner)
        case .untilClose:
            taken = buffer.count
        }
        bytes += taken
        return taken
    }
}
