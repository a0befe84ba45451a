/// One `name=value` pair of a request's query string, percent-decoded, with `+` read as a space.
///
/// A struct rather than a tuple so that `HTTPRequest` can be `Equatable`. A pair without `=` has an empty value;
/// names may repeat, and their order is kept.
public struct HTTPQueryItem: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The decoded name, the part before the first `=`.
    public var name: String
    /// The decoded value, the part after the first `=`; empty when there is no `=`.
    public var value: String

    /// A pair with this name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name=value`, decoded, for test failure messages.
    public var description: String { "\(name)=\(value)" }
}
