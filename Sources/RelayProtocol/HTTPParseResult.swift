/// What one call to `HTTPRequestParser.parse` found at the start of the buffer.
public enum HTTPParseResult: Sendable, Equatable {
    /// The buffer holds the beginning of a request that may still turn out valid: read more bytes and call
    /// `parse` again with the whole buffer.
    case needMore
    /// One complete request, taken from the first `consumed` bytes of the buffer. Any bytes after them are the
    /// start of the next pipelined request: drop the first `consumed` bytes and parse the rest.
    case request(HTTPRequest, consumed: Int)
    /// The bytes cannot be a valid request (or exceed a limit): answer with the error's status and close the
    /// connection, since where the next request would start is unknown.
    case invalid(HTTPParseError)
}
