/// Why a request was refused: the status to answer with and a short sentence saying what was wrong.
///
/// The reason is meant for the response body and the log, so it names the offending part ("header line 3 has no
/// colon") without echoing the client's bytes back. After an error the connection's framing can no longer be
/// trusted: answer with `status` and close.
public struct HTTPParseError: Error, Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The response status: 400 for malformed syntax, 413 for a body over the limit, 414 for a request line
    /// over the limit, 431 for a head or field count over the limit, 501 for a transfer coding the parser does
    /// not implement, 505 for an HTTP version other than 1.0 and 1.1.
    public var status: Int
    /// What was wrong, in a few words, without the client's bytes.
    public var reason: String

    /// An error with this status and reason.
    public init(status: Int, reason: String) {
        self.status = status
        self.reason = reason
    }

    /// The status, its standard phrase and the reason, as in `400 Bad Request: header line 3 has no colon`.
    public var description: String {
        "\(status) \(HTTPResponse.reasonPhrase(status)): \(reason)"
    }

    /// A 400 Bad Request.
    static func badRequest(_ reason: String) -> HTTPParseError {
        HTTPParseError(status: 400, reason: reason)
    }
}
