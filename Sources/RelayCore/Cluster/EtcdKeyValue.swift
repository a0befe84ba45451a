/// One key as etcd's range and transaction replies describe it.
public struct EtcdKeyValue: Sendable, Equatable {
    /// The key, decoded from base64 (keys relayd writes are text).
    public var key: String
    /// The value's bytes, decoded from base64.
    public var value: [UInt8]
    /// The revision at which the key was created; for the leader key, the leadership term.
    public var createRevision: Int64
    /// The revision of its last change.
    public var modRevision: Int64
    /// The lease it is bound to (0: none).
    public var lease: Int64

    public init(key: String, value: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, lease: Int64 = 0) {
        self.key = key
        self.value = value
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.lease = lease
    }
}
