/// Who an I/O failure is to be blamed on.
public enum IOFailureOrigin: Sendable, Equatable {
    /// relayd itself ran short of `LocalResource`; the peer may be perfectly healthy.
    case local(LocalResource)
    /// The peer, or the network between relayd and it.
    case remote

    /// The resource relayd ran out of, when the failure is its own.
    public var localResource: LocalResource? {
        if case let .local(resource) = self { return resource }
        return nil
    }
}
