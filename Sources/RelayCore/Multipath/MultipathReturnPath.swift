import RelayIO
import RelayProtocol

/// Where a multipath server sends one client's replies: the client's links as the server learns them from
/// authenticated frames, and the choice among them. A pure state machine, one per client; the clock is injected.
///
/// **Learning links.** Every authenticated, fresh frame (`MultipathAuthenticatedFrame` can only come out of
/// `MultipathChannel.open`, so forged, replayed and duplicated frames cannot reach this) marks its source address
/// as a link heard now. A HEARTBEAT also tells which of the client's links that address is and how the client
/// measures it. A link not heard from for `linkTimeout` is forgotten.
///
/// **Choosing.** Each client frame carries the link the client's LinkMonitor made active. The return path is
/// the address where that link was last heard; when the client names none that is heard here, the link with the
/// best score the client reports; failing that, the current path while it lives, else the link heard last.
/// The choice is made again on every frame and every expiry, so the return path moves on the first
/// authenticated frame that changes it — the client's next frame after a switch or failover — not at the next
/// heartbeat as in the seed. Announcements from frames older than one already taken (a lagging copy on a slow
/// link) are ignored, so reordering across links cannot move the path back.
///
/// **Replies.** `replyTargets` honours the fanout the client asks for: the return path alone, with the next
/// best link (by the client's reported scores, then the most recently heard), or with every live link.
public struct MultipathReturnPath<Address: Hashable & Sendable>: Sendable {
    /// How long a link stays known without an authenticated frame from it, in nanoseconds.
    public let linkTimeout: UInt64
    /// The links heard within `linkTimeout`, in the order they were first heard.
    public private(set) var links: [MultipathReturnPathLink<Address>] = []
    /// Where replies go; nil before the first frame and after every link expired.
    public private(set) var current: Address?
    /// The client's active link, from its newest frame.
    public private(set) var announcedLink: UInt8?
    /// What the client's newest frame asks for its replies.
    public private(set) var replyFanout: MultipathReplyFanout = .oneLink
    /// Times the return path moved.
    public private(set) var switchCount = 0
    /// The (session, sequence) of the frame `announcedLink` and `replyFanout` came from.
    private var announcementOrder: (session: UInt64, sequence: UInt32)?

    /// A return path that forgets a link after `linkTimeout` without a frame from it (default 10 s: the seed
    /// server's `heartbeat_timeout_sec`; fifty heartbeats at the client's default interval).
    public init(linkTimeout: Duration = .seconds(10)) {
        self.linkTimeout = linkTimeout.nanosecondsClamped
    }

    /// Records an authenticated frame that arrived from `address` at `now`, and re-chooses the return path.
    @discardableResult
    public mutating func record(_ authenticated: MultipathAuthenticatedFrame, from address: Address, now: UInt64)
        -> MultipathReturnPathChange<Address>?
    {
        let frame = authenticated.frame
        guard frame.direction == .clientToServer else { return nil }
        let position: Int
        if let known = links.firstIndex(where: { $0.address == address }) {
            position = known
        } else {
            links.append(MultipathReturnPathLink(address: address, firstHeard: now, lastHeard: now, frames: 0))
            position = links.count - 1
        }
        links[position].lastHeard = max(links[position].lastHeard, now)
        links[position].frames += 1
        if case .heartbeat(let heartbeat) = frame.body {
            // One client link lives at one address: a heartbeat from a new address (NAT rebinding) moves it.
            for other in links.indices where other != position && links[other].clientLink == heartbeat.link {
                links[other].clientLink = nil
                links[other].report = nil
            }
            links[position].clientLink = heartbeat.link
            links[position].report = heartbeat
        }
        if isNewer(frame) {
            announcementOrder = (frame.session, frame.sequence)
            announcedLink = frame.activeLink
            replyFanout = frame.replyFanout
        }
        return choose(preferring: address)
    }

    /// Forgets the links not heard from within `linkTimeout` of `now`, and re-chooses if the return path was
    /// one of them.
    @discardableResult
    public mutating func expire(now: UInt64) -> MultipathReturnPathChange<Address>? {
        let timeout = linkTimeout
        links.removeAll { LinkMonitorState.adding($0.lastHeard, timeout) <= now }
        guard !links.isEmpty else {
            guard let previous = current else { return nil }
            current = nil
            switchCount += 1
            return MultipathReturnPathChange(from: previous, to: nil, reason: .allLinksExpired)
        }
        return choose(preferring: nil)
    }

    /// When the next link expires, if any is known.
    public var nextExpiry: UInt64? {
        links.map { LinkMonitorState.adding($0.lastHeard, linkTimeout) }.min()
    }

    /// Where to send a reply: the return path first, then as many other links as the client asked for.
    public var replyTargets: [Address] {
        guard let current else { return [] }
        let others = links.filter { $0.address != current }.sorted(by: Self.better).map(\.address)
        switch replyFanout {
        case .oneLink: return [current]
        case .twoBestLinks: return [current] + others.prefix(1)
        case .everyLiveLink: return [current] + others
        }
    }

    /// Re-applies the rules; `arrival` is the address of the frame just recorded, if any.
    private mutating func choose(preferring arrival: Address?) -> MultipathReturnPathChange<Address>? {
        let choice: (Address, MultipathReturnPathChange<Address>.Reason)
        if let announced = announcedLink, let link = links.first(where: { $0.clientLink == announced }) {
            choice = (link.address, .clientChoice(link: announced))
        } else if let best = links.filter({ $0.report?.scoreThousandths != nil && $0.report?.health != .down })
            .min(by: Self.better)
        {
            choice = (best.address, .bestReportedScore)
        } else if let current, links.contains(where: { $0.address == current }) {
            return nil
        } else if let latest = arrival ?? links.max(by: { $0.lastHeard < $1.lastHeard })?.address {
            choice = (latest, .lastHeard)
        } else {
            return nil
        }
        guard choice.0 != current else { return nil }
        let change = MultipathReturnPathChange(from: current, to: choice.0, reason: choice.1)
        current = choice.0
        switchCount += 1
        return change
    }

    /// Whether `frame` is newer than the one the current announcement came from.
    private func isNewer(_ frame: MultipathFrame) -> Bool {
        guard let order = announcementOrder else { return true }
        return frame.session > order.session || (frame.session == order.session && frame.sequence > order.sequence)
    }

    /// Orders links best first: not reported down before reported down, then lower reported score, then any
    /// score before none, then heard more recently.
    private static func better(_ a: MultipathReturnPathLink<Address>, _ b: MultipathReturnPathLink<Address>) -> Bool {
        let aDown = a.report?.health == .down, bDown = b.report?.health == .down
        if aDown != bDown { return bDown }
        switch (a.report?.scoreThousandths, b.report?.scoreThousandths) {
        case (let x?, let y?) where x != y: return x < y
        case (.some, nil): return true
        case (nil, .some): return false
        default: return a.lastHeard > b.lastHeard
        }
    }
}
