/// What real traffic observed about a server, reported to the Scoreboard by the forwarding path.
///
/// Only upstream outcomes belong here: a client that hangs up or a local resource limit says nothing about
/// the server, and the Scoreboard penalises upstream failures only.
public enum PassiveSample: Sendable, Equatable {
    /// The connect to the server completed in this time. Counts as a success.
    case connected(Duration)
    /// Time from the first byte relayd forwarded to the server until the server's first byte back.
    case firstByte(Duration)
    /// The connect was refused or timed out (the text says which). A hard failure: the server is marked
    /// down at once.
    case connectFailed(String)
    /// A request the server answered (http listeners): a 5xx answer or no answer in time is a failure for the
    /// success rate, anything else a success. A soft signal: the server is not marked down for it. With the time
    /// to the response head when there was one (one sample per request instead of two).
    case answered(success: Bool, firstByte: Duration?)
}
