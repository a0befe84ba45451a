/// One request to etcd's JSON gateway: a POST of `body` to `path`.
public struct EtcdCall: Sendable, Equatable {
    /// Such as `/v3/kv/range`.
    public var path: String
    /// The JSON body.
    public var body: String

    public init(path: String, body: String) {
        self.path = path
        self.body = body
    }
}
