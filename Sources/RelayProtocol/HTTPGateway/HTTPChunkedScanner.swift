/// Follows the chunked framing of a body (RFC 9112 §7.1) as it streams by, a piece at a time, to find where the
/// body ends, without holding any of it: chunk data is skipped over, and only the framing (size lines, the CRLF
/// after each chunk, the trailer section) is looked at, within bounds.
///
/// The bytes are forwarded as they are (the framing with them), so the receiver decodes the same chunks; the
/// scanner only has to agree with it on where the message ends, which is why it is as strict as the request
/// parser: CRLF line ends only, hex sizes, no control characters in extensions or trailers.
public struct HTTPChunkedScanner: Sendable, Equatable {
    enum State: Sendable, Equatable {
        /// In a chunk-size line: the size so far, its digits, which part of the line, and the line's length so far.
        case size(value: Int, digits: Int, part: SizeLinePart, length: Int)
        /// The CR of a line was seen; its LF must come next. `then`: what the line was.
        case lineFeed(Line)
        /// Inside a chunk's data: bytes left.
        case data(Int)
        /// After a chunk's data: its CR (`false`) or its LF (`true`) comes next.
        case dataEnd(sawCR: Bool)
        /// In a trailer line (or the empty line ending the section): its length so far.
        case trailer(length: Int)
        /// The body ended.
        case done
    }

    /// The parts of a chunk-size line: hex digits, optional whitespace, then `;` extensions.
    enum SizeLinePart: Sendable, Equatable {
        case digits
        case space
        case extensions
    }

    /// Which line a CR ended.
    enum Line: Sendable, Equatable {
        case size(Int)
        case trailer(empty: Bool)
    }

    /// The longest chunk-size line (size and extensions), and the longest trailer section.
    public static let maxSizeLineBytes = 4_096
    public static let maxTrailerBytes = 16_384
    /// The largest chunk accepted: 2^40 bytes, so sizes never overflow.
    public static let maxChunkSize = 1 << 40

    private(set) var state = State.size(value: 0, digits: 0, part: .digits, length: 0)
    /// Trailer bytes so far.
    private var trailerBytes = 0

    public init() {}

    /// True once the last chunk and the trailer section have gone by.
    public var isDone: Bool { state == .done }

    /// Scans `bytes`, the next bytes of the body, and returns how many of them belong to it: all of them, or
    /// fewer when the body ends inside `bytes` (what follows is the next message). Throws 400 on framing that is
    /// not chunked syntax, 413 on a size or line over the bounds.
    public mutating func scan(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        var index = 0
        let count = bytes.count
        while index < count {
            switch state {
            case .done:
                return index
            case let .data(left):
                let step = min(left, count - index)
                index += step
                state = left - step == 0 ? .dataEnd(sawCR: false) : .data(left - step)
            case let .dataEnd(sawCR):
                let byte = bytes[index]
                index += 1
                if !sawCR {
                    guard byte == HTTPSyntax.cr else { throw .badRequest("chunk data is not followed by CRLF") }
                    state = .dataEnd(sawCR: true)
                } else {
                    guard byte == HTTPSyntax.lf else { throw .badRequest("chunk data is not followed by CRLF") }
                    state = .size(value: 0, digits: 0, part: .digits, length: 0)
                }
            case let .size(value, digits, part, length):
                let byte = bytes[index]
                index += 1
                guard length < HTTPChunkedScanner.maxSizeLineBytes else {
                    throw HTTPParseError(status: 413,
                                         reason: "a chunk-size line is longer than \(HTTPChunkedScanner.maxSizeLineBytes) bytes")
                }
                if byte == HTTPSyntax.cr {
                    guard digits > 0 else { throw .badRequest("a chunk does not start with a hex size") }
                    state = .lineFeed(.size(value))
                    continue
                }
                guard byte != HTTPSyntax.lf else { throw .badRequest("a line ends with a bare LF (lines end with CRLF)") }
                var next = (value: value, digits: digits, part: part)
                switch part {
                case .digits:
                    if let digit = HTTPSyntax.hexValue(byte) {
                        guard value <= (HTTPChunkedScanner.maxChunkSize - Int(digit)) / 16 else {
                            throw HTTPParseError(status: 413, reason: "a chunk is larger than 2^40 bytes")
                        }
                        next.value = value * 16 + Int(digit)
                        next.digits += 1
                    } else if digits == 0 {
                        throw .badRequest("a chunk does not start with a hex size")
                    } else if byte == UInt8(ascii: ";") {
                        next.part = .extensions
                    } else if HTTPSyntax.isWhitespace(byte) {
                        next.part = .space
                    } else {
                        throw .badRequest("a chunk size is followed by something other than an extension")
                    }
                case .space:
                    if byte == UInt8(ascii: ";") {
                        next.part = .extensions
                    } else if !HTTPSyntax.isWhitespace(byte) {
                        throw .badRequest("a chunk size is followed by something other than an extension")
                    }
                case .extensions:
                    guard HTTPSyntax.isFieldValueByte(byte) else {
                        throw .badRequest("a chunk extension has a control character")
                    }
                }
                state = .size(value: next.value, digits: next.digits, part: next.part, length: length + 1)
            case let .lineFeed(line):
                let byte = bytes[index]
                index += 1
                guard byte == HTTPSyntax.lf else { throw .badRequest("a CR is not followed by LF (lines end with CRLF)") }
                switch line {
                case let .size(size):
                    state = size == 0 ? .trailer(length: 0) : .data(size)
                case let .trailer(empty):
                    if empty {
                        state = .done
                        return index
                    }
                    state = .trailer(length: 0)
                }
            case let .trailer(length):
                let byte = bytes[index]
                index += 1
                trailerBytes += 1
                guard trailerBytes <= HTTPChunkedScanner.maxTrailerBytes else {
                    throw HTTPParseError(status: 431, reason: "the trailer section is larger than \(HTTPChunkedScanner.maxTrailerBytes) bytes")
                }
                if byte == HTTPSyntax.cr {
                    state = .lineFeed(.trailer(empty: length == 0))
                } else if byte == HTTPSyntax.lf {
                    throw .badRequest("a line ends with a bare LF (lines end with CRLF)")
                } else {
                    guard HTTPSyntax.isFieldValueByte(byte) else { throw .badRequest("a trailer line has a control character") }
                    state = .trailer(length: length + 1)
                }
            }
        }
        return index
    }
}
