// libFuzzer entry point for what an http listener parses from the network: request heads, response heads, and the
// chunked framing it follows while streaming a body. Built by Tools/fuzz/run-http-gateway with
// Sources/RelayProtocol/HTTP*.swift, HTTPGateway/*.swift, JSONValue.swift and UTCDate.swift (no module, so
// internal functions are visible). Every broken invariant traps, which libFuzzer reports as a crash.

/// The first byte picks where the input is split for the incremental checks; the rest is the bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPGateway(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data, size > 0 else { return 0 }
    let all = UnsafeRawBufferPointer(start: data, count: size)
    let input = UnsafeRawBufferPointer(rebasing: all[1...])
    let split = input.isEmpty ? 0 : Int(all[0]) % (input.count + 1)
    checkRequestHead(input, split: split)
    checkResponseHead(input, split: split)
    checkChunked(input, split: split)
    return 0
}

enum Outcome: Equatable {
    case needMore
    case refused(Int)
    case parsed(Int)
}

/// A request head: the same answer twice, a prefix either undecided or decided the same way, a head no longer
/// than its input and within the limits.
func checkRequestHead(_ input: UnsafeRawBufferPointer, split: Int) {
    let parser = HTTPRequestParser(limits: HTTPLimits(maxRequestLineBytes: 200, maxHeaderBytes: 400, maxHeaderCount: 8,
                                                      maxBodyBytes: 1 << 40, maxChunkedFramingBytes: 1 << 40))
    func outcome(_ bytes: UnsafeRawBufferPointer) -> (Outcome, HTTPProxyRequest?) {
        do {
            guard let head = try parser.parseProxyHead(bytes) else { return (.needMore, nil) }
            return (.parsed(head.headLength), head)
        } catch {
            precondition([400, 413, 414, 431, 501, 505].contains(error.status), "unexpected status \(error.status)")
            return (.refused(error.status), nil)
        }
    }
    let (whole, head) = outcome(input)
    precondition(outcome(input).0 == whole, "a second parse differs")
    let (prefix, _) = outcome(UnsafeRawBufferPointer(rebasing: input[..<split]))
    if prefix != .needMore { precondition(prefix == whole, "the prefix decides differently: \(prefix) vs \(whole)") }
    if let head {
        precondition(head.headLength > 0 && head.headLength <= input.count && head.headLength <= 402 + 4)
        precondition(head.headers.count <= 8)
        let (alone, _) = outcome(UnsafeRawBufferPointer(rebasing: input[..<head.headLength]))
        precondition(alone == whole, "the head's own bytes parse differently")
        _ = head.path
    }
    compareRequestWithReference(parser, input)
}

/// The proxy's request head against the decisions made from the string fields `parseHead` gives (the admin
/// server's reading): the same refusal, or the same method, target, framing, keep-alive, host, upgrade and fields,
/// with exactly the hop-by-hop lines RFC 9110 §7.6.1 names marked so.
func compareRequestWithReference(_ parser: HTTPRequestParser, _ input: UnsafeRawBufferPointer) {
    let fast: Result<HTTPProxyRequest?, HTTPParseError>
    do { fast = .success(try parser.parseProxyHead(input)) } catch { fast = .failure(error) }
    let reference: Result<(head: HTTPRequestHead, framing: HTTPBodyFraming)?, HTTPParseError>
    do throws(HTTPParseError) {
        if let head = try parser.parseHead(input) {
            try parser.checkHost(head)
            reference = .success((head, try parser.framing(of: head)))
        } else {
            reference = .success(nil)
        }
    } catch {
        reference = .failure(error)
    }
    compare(fast, reference, "request") { a, b in
        let headers = b.head.headers
        precondition(a.method == b.head.method && a.target == b.head.target && a.version == b.head.version
                     && a.headLength == b.head.end, "the request line or length differs")
        precondition(a.headers == headers, "the request fields differ")
        let body: HTTPMessageBody
        switch b.framing {
        case .none: body = .none
        case let .length(length): body = length == 0 ? .none : .length(length)
        case .chunked: body = .chunked
        }
        precondition(a.body == body, "the request framing differs")
        let keepAlive = !headers.containsToken("close", in: "Connection")
            && (b.head.version == .http1_1 || headers.containsToken("keep-alive", in: "Connection"))
        precondition(a.keepAlive == keepAlive, "keep-alive differs")
        precondition(a.host == headers["Host"].map(HTTPProxyRequest.hostName), "the host differs")
        precondition(a.isUpgrade == (headers["Upgrade"] != nil && headers.containsToken("upgrade", in: "Connection")),
                     "upgrade differs")
        precondition(a.upgrade == headers["Upgrade"] && a.hasRequestID == (headers["X-Request-Id"] != nil))
        let standard = ["connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"]
        let listed = headers.values(for: "Connection").flatMap { $0.split(separator: ",") }
            .map { HTTPSyntax.trimmingWhitespace($0).lowercased() }
        for (line, field) in zip(a.lines, headers) {
            let name = field.name.lowercased()
            let hop = standard.contains(name) || listed.contains(name)
            precondition((line.role == .hopByHop) == hop, "hop-by-hop marking differs for \(name)")
        }
    }
}

/// A response head, answering GET and HEAD: the same consistency as a request head.
func checkResponseHead(_ input: UnsafeRawBufferPointer, split: Int) {
    let parser = HTTPResponseParser(limits: HTTPLimits(maxHeaderBytes: 400, maxHeaderCount: 8, maxBodyBytes: 1 << 40))
    for method in ["GET", "HEAD"] {
        func outcome(_ bytes: UnsafeRawBufferPointer) -> Outcome {
            do {
                guard let head = try parser.parseProxyHead(bytes, requestMethod: method) else { return .needMore }
                precondition(head.headLength <= bytes.count)
                precondition((100...599).contains(head.status))
                if method == "HEAD" { precondition(head.body == .none) }
                if head.body == .untilClose { precondition(!head.keepAlive) }
                return .parsed(head.headLength)
            } catch {
                return .refused(error.status)
            }
        }
        let whole = outcome(input)
        let prefix = outcome(UnsafeRawBufferPointer(rebasing: input[..<split]))
        if prefix != .needMore { precondition(prefix == whole, "a response prefix decides differently") }
        compareWithReference(parser, input, method: method)
    }
}

/// The proxy's response head against the same decisions made from the string fields `parseHead` gives (the
/// client parser's reading): the same status, framing, keep-alive, length and fields, or the same refusal.
func compareWithReference(_ parser: HTTPResponseParser, _ input: UnsafeRawBufferPointer, method: String) {
    let fast: Result<HTTPProxyResponse?, HTTPParseError>
    do { fast = .success(try parser.parseProxyHead(input, requestMethod: method)) } catch { fast = .failure(error) }
    let reference: Result<(status: Int, body: HTTPMessageBody, keepAlive: Bool, end: Int, headers: HTTPHeaders)?, HTTPParseError>
    do throws(HTTPParseError) {
        if let head = try parser.parseHead(input) {
            let headers = head.headers
            var keepAlive = head.version11 ? !headers.containsToken("close", in: "Connection")
                                           : headers.containsToken("keep-alive", in: "Connection")
            let body: HTTPMessageBody
            if method == "HEAD" || (100..<200).contains(head.status) || head.status == 204 || head.status == 304 {
                body = .none
            } else if !headers.values(for: "Transfer-Encoding").isEmpty {
                let codings = headers.values(for: "Transfer-Encoding").flatMap { $0.split(separator: ",") }
                    .map { HTTPSyntax.trimmingWhitespace($0).lowercased() }.filter { !$0.isEmpty }
                body = codings.last == "chunked" ? .chunked : .untilClose
            } else if let first = headers.values(for: "Content-Length").first {
                let digits = try parser.fields.significantDigits(ofContentLength: first)
                for other in headers.values(for: "Content-Length").dropFirst() {
                    guard try parser.fields.significantDigits(ofContentLength: other) == digits else {
                        throw .badRequest("Content-Length fields disagree")
                    }
                }
                guard digits.count <= 13 else { throw HTTPParseError(status: 502, reason: "too large") }
                let length = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                body = length == 0 ? .none : .length(length)
            } else {
                body = .untilClose
            }
            if body == .untilClose { keepAlive = false }
            reference = .success((head.status, body, keepAlive, head.end, headers))
        } else {
            reference = .success(nil)
        }
    } catch {
        reference = .failure(error)
    }
    compare(fast, reference, "response") { a, b in
        precondition(a.status == b.status && a.body == b.body && a.keepAlive == b.keepAlive && a.headLength == b.end,
                     "the proxy's reading differs from the reference")
        precondition(a.headers == b.headers, "the fields differ")
    }
}

/// Two readings of the same bytes: refused with the same status, both undecided, or both decided and then checked
/// by `same`.
func compare<Fast, Reference>(_ fast: Result<Fast?, HTTPParseError>, _ reference: Result<Reference?, HTTPParseError>,
                              _ what: String, same: (Fast, Reference) -> Void) {
    switch (fast, reference) {
    case let (.failure(a), .failure(b)):
        precondition(a.status == b.status, "\(what) refused with \(a.status) and \(b.status)")
    case let (.success(a?), .success(b?)):
        same(a, b)
    case (.success(nil), .success(nil)):
        break
    default:
        preconditionFailure("one reading of a \(what) decided, the other did not: \(fast) vs \(reference)")
    }
}

/// The chunked scanner: fed whole or in two pieces it ends at the same byte or refuses both ways; where the
/// request parser decodes a chunked body, the scanner ends exactly where the parser's body ends.
func checkChunked(_ input: UnsafeRawBufferPointer, split: Int) {
    func scan(_ pieces: [UnsafeRawBufferPointer]) -> Outcome {
        var scanner = HTTPChunkedScanner()
        var taken = 0
        do {
            for piece in pieces where !scanner.isDone {
                let used = try scanner.scan(piece)
                precondition(used <= piece.count)
                precondition(used == piece.count || scanner.isDone, "stopped early without being done")
                taken += used
            }
        } catch {
            return .refused(error.status)
        }
        return scanner.isDone ? .parsed(taken) : .needMore
    }
    let whole = scan([input])
    let pieces = scan([UnsafeRawBufferPointer(rebasing: input[..<split]), UnsafeRawBufferPointer(rebasing: input[split...])])
    switch (whole, pieces) {
    case (.refused, .refused): break
    default: precondition(whole == pieces, "whole \(whole), in pieces \(pieces)")
    }
    var tracker = HTTPBodyTracker(.chunked)
    if let used = try? tracker.take(input) {
        if case let .parsed(end) = whole { precondition(used == end && tracker.isComplete) }
    }
    let parser = HTTPRequestParser(limits: HTTPLimits(maxHeaderCount: 1000, maxBodyBytes: 1 << 40,
                                                      maxChunkedFramingBytes: 1 << 40))
    if let decoded = try? parser.parseChunkedBody(input, from: 0) {
        precondition(whole == .parsed(decoded.end), "the parser ends the body at \(decoded.end), the scanner: \(whole)")
    }
}
