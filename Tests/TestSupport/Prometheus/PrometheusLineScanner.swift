/// Reads one line of a text exposition into a `PrometheusLine`, checking its syntax: names, escapes, quoting,
/// and the number grammar Prometheus accepts.
struct PrometheusLineScanner {
    /// The line's bytes, without its line feed.
    private let bytes: [UInt8]
    /// The next byte to read.
    private var position = 0
    /// The 1-based line number, for errors.
    private let line: Int

    init(_ bytes: some Collection<UInt8>, line: Int) {
        self.bytes = Array(bytes)
        self.line = line
    }

    /// The line's meaning, or why it is malformed.
    mutating func scan() throws(PrometheusFormatError) -> PrometheusLine {
        skipBlanks()
        guard let first = peek() else { return .ignored }
        if first == UInt8(ascii: "#") {
            position += 1
            return try scanComment()
        }
        return try scanSample()
    }

    private mutating func scanComment() throws(PrometheusFormatError) -> PrometheusLine {
        skipBlanks()
        let keyword = String(decoding: token(), as: UTF8.self)
        guard keyword == "HELP" || keyword == "TYPE" else { return .ignored }
        guard skipBlanks() > 0 else { throw failure("expected a metric name after # \(keyword)") }
        let name = try metricName()
        if keyword == "HELP" {
            guard !atEnd else { return .help(name: name, text: "") }
            guard skipBlanks() > 0 else { throw failure("expected a blank after the metric name in # HELP") }
            return .help(name: name, text: try unescape(bytes[position...], quotes: false, what: "help text"))
        }
        guard skipBlanks() > 0 else { throw failure("expected a type after the metric name in # TYPE \(name)") }
        let type = String(decoding: token(), as: UTF8.self)
        skipBlanks()
        guard atEnd else { throw failure("unexpected text after # TYPE \(name) \(type)") }
        return .type(name: name, type: type)
    }

    private mutating func scanSample() throws(PrometheusFormatError) -> PrometheusLine {
        let name = try metricName()
        let blanksAfterName = skipBlanks()
        var labels: [String: String] = [:]
        if peek() == UInt8(ascii: "{") {
            position += 1
            labels = try labelSet(of: name)
            skipBlanks()
        } else if blanksAfterName == 0 {
            throw failure("expected a blank or { after the metric name \(name)")
        }
        let valueText = token()
        guard !valueText.isEmpty else { throw failure("sample \(name) has no value") }
        guard let value = Self.parseFloat(valueText) else {
            throw failure("sample \(name) has the value \(String(decoding: valueText, as: UTF8.self)), not a number")
        }
        if skipBlanks() > 0, !atEnd {
            let timestamp = token()
            guard Self.isInteger(timestamp) else {
                let text = String(decoding: timestamp, as: UTF8.self)
                throw failure("sample \(name) has the timestamp \(text), not an integer")
            }
            skipBlanks()
        }
        guard atEnd else { throw failure("unexpected text after the value of \(name)") }
        return .sample(name: name, labels: labels, value: value)
    }

    /// The labels after `{`, up to and including `}`; a trailing comma is allowed, as in Prometheus.
    private mutating func labelSet(of metric: String) throws(PrometheusFormatError) -> [String: String] {
        var labels: [String: String] = [:]
        while true {
            skipBlanks()
            if peek() == UInt8(ascii: "}") {
                position += 1
                return labels
            }
            let start = position
            while let byte = peek(), PrometheusNameGrammar.isNameContinuation(byte, allowingColon: false) { position += 1 }
            let nameBytes = bytes[start..<position]
            guard PrometheusNameGrammar.isValid(nameBytes, allowingColon: false) else {
                throw failure("invalid label name in \(metric): expected [a-zA-Z_][a-zA-Z0-9_]*")
            }
            let label = String(decoding: nameBytes, as: UTF8.self)
            skipBlanks()
            guard peek() == UInt8(ascii: "=") else { throw failure("expected = after the label \(label) of \(metric)") }
            position += 1
            skipBlanks()
            guard peek() == UInt8(ascii: "\"") else {
                throw failure("expected a quoted value for the label \(label) of \(metric)")
            }
            position += 1
            let valueStart = position
            var escaped = false
            while let byte = peek(), escaped || byte != UInt8(ascii: "\"") {
                escaped = !escaped && byte == UInt8(ascii: "\\")
                position += 1
            }
            guard !atEnd else { throw failure("unterminated value for the label \(label) of \(metric)") }
            let value = try unescape(bytes[valueStart..<position], quotes: true,
                                     what: "the value of the label \(label)")
            position += 1
            guard labels.updateValue(value, forKey: label) == nil else {
                throw failure("label \(label) appears twice in \(metric)")
            }
            skipBlanks()
            switch peek() {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"): continue
            default: throw failure("expected , or } after the label \(label) of \(metric)")
            }
        }
    }

    private mutating func metricName() throws(PrometheusFormatError) -> String {
        let start = position
        while let byte = peek(), PrometheusNameGrammar.isNameContinuation(byte, allowingColon: true) { position += 1 }
        let name = bytes[start..<position]
        guard PrometheusNameGrammar.isValid(name, allowingColon: true) else {
            let found = String(decoding: start < bytes.count ? bytes[start...].prefix(40) : [], as: UTF8.self)
            throw failure("invalid metric name at \"\(found)\": expected [a-zA-Z_:][a-zA-Z0-9_:]*")
        }
        return String(decoding: name, as: UTF8.self)
    }

    /// `text` with its escapes resolved: `\\` and `\n` everywhere, `\"` in label values; any other escape,
    /// and in label values a bare `"`, is an error.
    private func unescape(_ text: ArraySlice<UInt8>, quotes: Bool, what: String) throws(PrometheusFormatError)
        -> String
    {
        guard text.contains(UInt8(ascii: "\\")) else { return String(decoding: text, as: UTF8.self) }
        var result: [UInt8] = []
        result.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                result.append(byte)
                continue
            }
            guard index < text.endIndex else { throw failure("\(what) ends with a lone backslash") }
            switch text[index] {
            case UInt8(ascii: "\\"): result.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "n"): result.append(UInt8(ascii: "\n"))
            case UInt8(ascii: "\"") where quotes: result.append(UInt8(ascii: "\""))
            default:
                let escape = String(decoding: [UInt8(ascii: "\\"), text[index]], as: UTF8.self)
                throw failure("invalid escape \(escape) in \(what)")
            }
            index += 1
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// A Prometheus float: what Go's `strconv.ParseFloat` accepts in decimal (`1`, `-2.5`, `.5`, `1e-3`),
    /// `Inf`/`Infinity` with an optional sign and `NaN`, in any case. Hex floats and `_` are refused, as
    /// Prometheus refuses them.
    static func parseFloat(_ text: some Collection<UInt8>) -> Double? {
        let lowered = String(decoding: text, as: UTF8.self).lowercased()
        switch lowered {
        case "nan": return .nan
        case "inf", "+inf", "infinity", "+infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        default: break
        }
        let isSign = { (byte: UInt8) in byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") }
        var bytes = Array(text)[...]
        if let sign = bytes.first, isSign(sign) { bytes = bytes.dropFirst() }
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let integerDigits = bytes.prefix(while: isDigit).count
        bytes = bytes.dropFirst(integerDigits)
        var fractionDigits = 0
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fractionDigits = bytes.prefix(while: isDigit).count
            bytes = bytes.dropFirst(fractionDigits)
        }
        guard integerDigits + fractionDigits > 0 else { return nil }
        if let exponent = bytes.first, exponent == UInt8(ascii: "e") || exponent == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, isSign(sign) { bytes = bytes.dropFirst() }
            let exponentDigits = bytes.prefix(while: isDigit).count
            guard exponentDigits > 0 else { return nil }
            bytes = bytes.dropFirst(exponentDigits)
        }
        guard bytes.isEmpty else { return nil }
        return Double(String(decoding: text, as: UTF8.self))
    }

    /// Whether `text` is a decimal integer with an optional `-`, as sample timestamps are written.
    static func isInteger(_ text: some Collection<UInt8>) -> Bool {
        let digits = text.first == UInt8(ascii: "-") ? text.dropFirst() : text[...]
        return !digits.isEmpty && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    private var atEnd: Bool { position >= bytes.count }

    private func peek() -> UInt8? { atEnd ? nil : bytes[position] }

    /// Skips spaces and tabs; returns how many.
    @discardableResult
    private mutating func skipBlanks() -> Int {
        let start = position
        while let byte = peek(), byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { position += 1 }
        return position - start
    }

    /// The bytes up to the next blank or the end of the line.
    private mutating func token() -> ArraySlice<UInt8> {
        let start = position
        while let byte = peek(), byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") { position += 1 }
        return bytes[start..<position]
    }

    private func failure(_ reason: String) -> PrometheusFormatError {
        PrometheusFormatError(line: line, reason: reason)
    }
}
