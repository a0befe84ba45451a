/// One header field line of a request: the name as the client spelled it and the value trimmed of surrounding
/// whitespace.
public struct HTTPHeader: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// The field name, as sent (names compare case-insensitively; see `HTTPHeaders`).
    public var name: String
    /// The field value without leading or trailing spaces and tabs.
    public var value: String

    /// A field with this name and value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `name: value`, for test failure messages.
    public var description: String { "\(name): \(value)" }
}
