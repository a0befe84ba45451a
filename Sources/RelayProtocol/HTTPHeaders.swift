/// A request's header fields in the order they were sent, looked up by name without regard to case.
///
/// Order and repeats are kept because they matter for some fields (a repeated `Content-Length` must agree, a
/// repeated `Host` is an error); the lookups are linear, which is cheap for the at most `maxHeaderCount` fields a
/// parsed request can have.
public struct HTTPHeaders: Sendable, Equatable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral,
    CustomStringConvertible
{
    /// The fields in wire order.
    public private(set) var fields: [HTTPHeader]

    /// Headers holding these fields in this order.
    public init(_ fields: [HTTPHeader] = []) {
        self.fields = fields
    }

    /// Headers from `(name, value)` pairs in this order; names may repeat.
    public init(_ pairs: [(String, String)]) {
        self.fields = pairs.map { HTTPHeader(name: $0.0, value: $0.1) }
    }

    /// Headers from a literal such as `["Host": "a", "Accept": "*/*"]`; a literal may repeat a name.
    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// The position of the first field.
    public var startIndex: Int { fields.startIndex }
    /// The position after the last field.
    public var endIndex: Int { fields.endIndex }
    /// The field at `position`.
    public subscript(position: Int) -> HTTPHeader { fields[position] }

    /// The value of the first field called `name` (any case), or nil when there is none. Use `values(for:)`
    /// when a field may legitimately repeat.
    public subscript(name: String) -> String? {
        fields.first { HTTPHeaders.namesMatch($0.name, name) }?.value
    }

    /// The values of every field called `name` (any case), in wire order.
    public func values(for name: String) -> [String] {
        fields.filter { HTTPHeaders.namesMatch($0.name, name) }.map(\.value)
    }

    /// Whether some field is called `name` (any case).
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPHeaders.namesMatch($0.name, name) }
    }

    /// Whether a comma-separated field called `name` lists `token`, ignoring case and surrounding whitespace, as
    /// for `Connection: keep-alive, Upgrade`. Every field line of that name is searched.
    public func containsToken(_ token: String, in name: String) -> Bool {
        values(for: name).contains { value in
            value.split(separator: ",").contains { element in
                HTTPHeaders.namesMatch(HTTPSyntax.trimmingWhitespace(element), token)
            }
        }
    }

    /// Adds a field after the others.
    public mutating func append(name: String, value: String) {
        fields.append(HTTPHeader(name: name, value: value))
    }

    /// One `name: value` line per field.
    public var description: String {
        fields.map(\.description).joined(separator: "\n")
    }

    /// Whether two names are equal ignoring ASCII case: field names are tokens, which are ASCII, so a full
    /// Unicode case fold would only be slower.
    static func namesMatch(_ left: some StringProtocol, _ right: some StringProtocol) -> Bool {
        var rightBytes = right.utf8.makeIterator()
        for leftByte in left.utf8 {
            guard let rightByte = rightBytes.next(),
                HTTPSyntax.lowercased(leftByte) == HTTPSyntax.lowercased(rightByte)
            else { return false }
        }
        return rightBytes.next() == nil
    }
}
