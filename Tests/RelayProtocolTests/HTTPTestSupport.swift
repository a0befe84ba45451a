@testable import RelayProtocol

extension HTTPRequestParser {
    /// Parses the UTF-8 bytes of `text`, for tests that write requests as string literals.
    func parse(_ text: String) -> HTTPParseResult {
        parse(Array(text.utf8))
    }
}

extension HTTPParseResult {
    /// The request, when the result is one.
    var request: HTTPRequest? {
        if case .request(let request, _) = self { request } else { nil }
    }

    /// The bytes used, when the result is a request.
    var consumed: Int? {
        if case .request(_, let consumed) = self { consumed } else { nil }
    }

    /// The status of an invalid result.
    var errorStatus: Int? {
        if case .invalid(let error) = self { error.status } else { nil }
    }
}
