/// Which way a task waits on a socket.
public enum IOInterest: Sendable {
    case read, write
}
