// libFuzzer entry point for the HTTP request parser and response encoder. Built by Tools/fuzz/run-http together
// with Sources/RelayProtocol/HTTP*.swift, JSONValue.swift and UTCDate.swift (no module, so internal functions are
// visible). Every broken invariant traps, which libFuzzer reports as a crash with the input that caused it.

/// Parses one input with the default limits and with tiny ones (so the limit paths are reached by short inputs),
/// and checks what the unit tests check: a well-formed answer, the same answer twice, an answer consistent with
/// the input's first half, and a request that parses the same from its own bytes alone.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    let tiny = HTTPLimits(
        maxRequestLineBytes: 40, maxHeaderBytes: 96, maxHeaderCount: 3, maxBodyBytes: 24, maxChunkedFramingBytes: 32)
    for parser in [HTTPRequestParser(), HTTPRequestParser(limits: tiny)] {
        check(parser, input)
    }
    return 0
}

/// Traps unless `parser` answers `input` consistently.
func check(_ parser: HTTPRequestParser, _ input: UnsafeRawBufferPointer) {
    let result = parser.parse(input)
    precondition(parser.parse(input) == result, "a second parse differs")
    let prefix = UnsafeRawBufferPointer(rebasing: input[..<(input.count / 2)])
    switch (parser.parse(prefix), result) {
    case (.needMore, _):
        break
    case (.invalid(let early), .invalid(let late)):
        precondition(early.status == late.status, "the prefix and the whole are refused differently")
    case (.request(let request, let consumed), _):
        precondition(result == .request(request, consumed: consumed), "the prefix parses, the whole differently")
    default:
        preconditionFailure("the prefix is refused, the whole is not")
    }
    switch result {
    case .needMore:
        break
    case .invalid(let error):
        precondition([400, 413, 414, 431, 501, 505].contains(error.status), "unexpected status \(error.status)")
        precondition(!error.reason.isEmpty, "an error without a reason")
        exerciseEncoder(HTTPResponse.error(error))
    case .request(let request, let consumed):
        precondition(consumed > 0 && consumed <= input.count, "consumed \(consumed) of \(input.count)")
        let alone = UnsafeRawBufferPointer(rebasing: input[..<consumed])
        precondition(parser.parse(alone) == result, "the request's own bytes parse differently")
        precondition(request.body.count <= parser.limits.maxBodyBytes, "a body over the limit")
        precondition(request.headers.count <= parser.limits.maxHeaderCount, "more headers than the limit")
        let echoed = request.headers.fields.map { ($0.name, $0.value) }
        exerciseEncoder(HTTPResponse(status: 200, headers: echoed, body: request.body))
        exerciseEncoder(HTTPResponse.error(404, request.path + request.pathSegments.joined()))
    }
}

/// Encodes `response` and checks that its head has exactly one blank line and a `Content-Length` that matches.
func exerciseEncoder(_ response: HTTPResponse) {
    let bytes = response.encode(keepAlive: true, extraHeaders: [("Date", UTCDate(secondsSince1970: 0).imfFixdate)])
    var headEnd: Int?
    var index = 0
    while index + 3 < bytes.count {
        if bytes[index] == 0x0D, bytes[index + 1] == 0x0A, bytes[index + 2] == 0x0D, bytes[index + 3] == 0x0A {
            headEnd = index + 4
            break
        }
        index += 1
    }
    guard let headEnd else { preconditionFailure("an encoded response without a blank line") }
    let head = String(decoding: bytes[..<headEnd], as: UTF8.self)
    precondition(bytes.count - headEnd == response.body.count, "the encoded body differs in length")
    precondition(head.contains("\r\nContent-Length: \(response.body.count)\r\n"), "a wrong Content-Length")
    let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
    precondition(lines.allSatisfy { !$0.contains("\n") && !$0.contains("\r") }, "a bare CR or LF in the head")
}
