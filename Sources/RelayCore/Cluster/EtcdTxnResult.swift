/// What a transaction returned: whether the comparisons held, etcd's revision after it, and the keys read by a
/// range in the branch that ran (the loser of an election learns the leader this way).
public struct EtcdTxnResult: Sendable, Equatable {
    /// The comparisons held and the success branch ran (etcd leaves the field out when false).
    public var succeeded: Bool
    /// The store's revision after the transaction; the create revision of a key it created.
    public var revision: Int64
    /// Keys returned by `request_range` operations, in order.
    public var kvs: [EtcdKeyValue]

    public init(succeeded: Bool, revision: Int64, kvs: [EtcdKeyValue]) {
        self.succeeded = succeeded
        self.revision = revision
        self.kvs = kvs
    }
}
