extension HTTPRequestParser {
    /// Decodes a chunked body starting at `start` (RFC 9112 §7.1): the body and the offset just past the
    /// trailer section, or nil when the body has not fully arrived.
    ///
    /// Chunk data is skipped, not scanned, while the body is incomplete, and copied once at the end. Chunk
    /// extensions are checked for control characters and ignored; trailer fields are checked like header
    /// fields and dropped, since nothing here needs them and merging them into the headers would let a body
    /// change a request's meaning after the fact.
    func parseChunkedBody(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(HTTPParseError)
        -> (body: [UInt8], end: Int)?
    {
        let framingLimit = limits.maxChunkedFramingBytes
        let framingTooLarge = HTTPParseError(
            status: 413, reason: "the chunked framing is larger than \(framingLimit) bytes")
        var position = start
        var framing = 0
        var chunks: [Range<Int>] = []
        var total = 0

        // Chunks, up to and including the zero-size last chunk.
        chunkLoop: while true {
            switch try HTTPLineEnd.find(in: bytes, from: position, maxLength: framingLimit - framing - 2) {
            case .incomplete: return nil
            case .tooLong: throw framingTooLarge
            case .found(let end):
                let size = try parseChunkSize(bytes, position..<end, bodySoFar: total)
                framing += end + 2 - position
                position = end + 2
                if size == 0 { break chunkLoop }
                guard framingLimit - framing >= 2 else { throw framingTooLarge }
                guard bytes.count - position >= size else { return nil }
                let dataEnd = position + size
                let available = min(bytes.count - dataEnd, 2)
                guard available < 1 || bytes[dataEnd] == HTTPSyntax.cr,
                    available < 2 || bytes[dataEnd + 1] == HTTPSyntax.lf
                else { throw .badRequest("chunk data is not followed by CRLF") }
                guard available == 2 else { return nil }
                chunks.append(position..<dataEnd)
                total += size
                framing += 2
                position = dataEnd + 2
            }
        }

        // The trailer section, ended by an empty line.
        var trailerCount = 0
        while true {
            switch try HTTPLineEnd.find(in: bytes, from: position, maxLength: framingLimit - framing - 2) {
            case .incomplete: return nil
            case .tooLong: throw framingTooLarge
            case .found(let end) where end == position:
                var body: [UInt8] = []
                body.reserveCapacity(total)
                for chunk in chunks { body.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[chunk])) }
                return (body, end + 2)
            case .found(let end):
                trailerCount += 1
                guard trailerCount <= limits.maxHeaderCount else {
                    throw HTTPParseError(status: 431, reason: "more than \(limits.maxHeaderCount) trailer fields")
                }
                _ = try parseFieldLine(bytes, position..<end, number: trailerCount, kind: "trailer")
                framing += end + 2 - position
                position = end + 2
            }
        }
    }

    /// The size of a chunk from its chunk-size line (hex digits, then optional `;` extensions), with 413 as soon
    /// as the body would exceed `maxBodyBytes`.
    func parseChunkSize(_ bytes: UnsafeRawBufferPointer, _ line: Range<Int>, bodySoFar: Int) throws(HTTPParseError)
        -> Int
    {
        var size = 0
        var index = line.lowerBound
        while index < line.upperBound, let digit = HTTPSyntax.hexValue(bytes[index]) {
            size = size * 16 + Int(digit)
            guard size <= limits.maxBodyBytes - bodySoFar else {
                throw HTTPParseError(status: 413, reason: "the body is larger than \(limits.maxBodyBytes) bytes")
            }
            index += 1
        }
        guard index > line.lowerBound else { throw .badRequest("a chunk does not start with a hex size") }
        while index < line.upperBound, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        guard index == line.upperBound || bytes[index] == UInt8(ascii: ";") else {
            throw .badRequest("a chunk size is followed by something other than an extension")
        }
        guard HTTPSyntax.allSatisfy(bytes, index..<line.upperBound, HTTPSyntax.isFieldValueByte) else {
            throw .badRequest("a chunk extension has a control character")
        }
        return size
    }
}
