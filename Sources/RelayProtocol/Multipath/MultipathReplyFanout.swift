/// How many links the server should send its replies on: bits 1–2 of a client-to-server frame's flags.
///
/// The client's redundancy decision, mirrored to the server so that the return direction is protected when the
/// forward one is: a client that duplicates its own frames asks for duplicated replies too.
public enum MultipathReplyFanout: UInt8, Sendable, Equatable, Hashable, CaseIterable {
    /// The return path only.
    case oneLink = 0
    /// The return path and the next best link.
    case twoBestLinks = 1
    /// Every link heard from lately.
    case everyLiveLink = 2
}
