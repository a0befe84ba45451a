import RelayIO

/// The outcome of one probe of one server.
public struct ProbeResult: Sendable, Equatable {
    /// The server answered as the probe kind requires.
    public var success: Bool
    /// TCP: connect time. HTTP: time from sending the request to the first byte of the response. UDP:
    /// round trip. Set for successes, and for HTTP failures that still got an answer.
    public var latency: Duration?
    /// Why the probe failed, for logs and `relayd probe`.
    public var error: String?
    /// The probe could not run because relayd itself ran short of this (no socket, no memory, no local
    /// port): it says nothing about the server, so it is counted apart and never scored.
    public var localShortage: LocalResource? = nil
}
