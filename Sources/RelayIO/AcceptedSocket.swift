/// A connection the kernel handed us that nobody owns yet: adopt it with `TCPConnection(adopting:)`
/// or close it with `refuse()`. Kept this small so a refused connection (over a limit) costs no
/// epoll registration.
public struct AcceptedSocket: Sendable {
    /// The connected, non-blocking descriptor.
    public let fd: Int32
    /// The client's address.
    public let peer: SocketAddress

    /// Closes the connection at once (the polite refusal for connections over a limit).
    public func refuse() {
        SocketOptions.close(fd)
    }
}
