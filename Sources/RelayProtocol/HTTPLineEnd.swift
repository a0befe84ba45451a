/// Where the line starting at some offset of a buffer ends, as far as the bytes so far can tell.
enum HTTPLineEnd: Equatable {
    /// The line ends with the CR at this offset, and an LF follows it.
    case found(Int)
    /// No CRLF yet, and the line is still within its length limit: more bytes may complete it.
    case incomplete
    /// The line is already longer than its limit, whatever follows.
    case tooLong

    /// Finds the CRLF ending the line that starts at `start`, looking at no more than `maxLength + 1` bytes.
    ///
    /// Lines must end with CRLF: a CR followed by anything else (a bare CR) and an LF without a CR before it
    /// (a bare LF) throw 400 as soon as they are seen. The scan stops after `maxLength + 1` bytes, so a line can
    /// never cost more than its limit however much is buffered.
    static func find(in bytes: UnsafeRawBufferPointer, from start: Int, maxLength: Int) throws(HTTPParseError)
        -> HTTPLineEnd
    {
        let count = bytes.count
        guard maxLength >= 0 else { return .tooLong }
        let limit = start + min(count - start, maxLength + 1)
        var index = start
        while index < limit {
            let byte = bytes[index]
            if byte == HTTPSyntax.cr {
                guard index + 1 < count else { return .incomplete }
                guard bytes[index + 1] == HTTPSyntax.lf else {
                    throw .badRequest("a CR is not followed by LF (lines end with CRLF)")
                }
                return .found(index)
            }
            if byte == HTTPSyntax.lf {
                throw .badRequest("a line ends with a bare LF (lines end with CRLF)")
            }
            index += 1
        }
        return count - start > maxLength ? .tooLong : .incomplete
    }
}
