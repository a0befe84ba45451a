/// What a `SessionStore` needs of the sessions it owns (a UDP flow, a reliable-UDP session): when each was last
/// active, and a way to end it from any thread.
public protocol StoredSession: AnyObject, Sendable {
    /// Why a session ended, in its own kind's words.
    associatedtype End: Sendable
    /// The reason the store gives a session it closes for idleness.
    static var idleEnd: End { get }
    /// When the session last carried traffic (monotonic ns), for idle expiry.
    var lastActivityTime: UInt64 { get }
    /// Ends the session for `reason`: safe from any thread, and idempotent.
    func close(_ reason: End)
}
