/// The server's return path for a client moved: from `from` to `to` (nil when every link was forgotten).
public struct MultipathReturnPathChange<Address: Hashable & Sendable>: Sendable, Equatable {
    /// Why the return path moved.
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// The client's frames name this link as its active one.
        case clientChoice(link: UInt8)
        /// The client names no active link that is heard here, and this link has the best score it reports.
        case bestReportedScore
        /// Nothing better is known, and this is the link heard from most recently.
        case lastHeard
        /// Every link went unheard for longer than the timeout.
        case allLinksExpired

        /// For the log line.
        public var description: String {
            switch self {
            case .clientChoice(let link): "client's active link \(link)"
            case .bestReportedScore: "best reported score"
            case .lastHeard: "last link heard"
            case .allLinksExpired: "every link expired"
            }
        }
    }

    /// The previous return path; nil when there was none.
    public var from: Address?
    /// The new one; nil when none is left.
    public var to: Address?
    /// Why.
    public var reason: Reason
}
