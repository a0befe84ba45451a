/// One datagram held by a `DatagramBatch`: a view of the batch's memory, not a copy.
///
/// Valid only until the batch is next received into, reset, reordered or freed; read it (or copy what
/// must outlive it) right away. Taking the view allocates nothing.
public struct Datagram {
    /// The payload: at most the batch's `slotSize` bytes.
    public let bytes: UnsafeRawBufferPointer
    /// Who sent a received datagram; where an outgoing one goes (nil: the socket's connected peer).
    public let peer: SocketAddress?
    /// The datagram was longer than the slot (MSG_TRUNC): `bytes` holds only its first `slotSize` bytes.
    public let truncated: Bool
}
