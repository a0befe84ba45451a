import RelayProtocol

/// What the LinkMonitor actor must do or report after an event of its `LinkMonitorState`.
///
/// The send path does not wait for these: it reads the state's `LinkMonitorSnapshot`, which the actor publishes
/// whenever its `generation` changes. Actions are the I/O the state needs (heartbeats, name resolution) and the
/// events worth a log line and a counter.
public enum LinkMonitorAction: Sendable, Equatable {
    /// Seal `heartbeat` (its timestamp is now) and send it on link `link`.
    case sendHeartbeat(link: Int, heartbeat: MultipathHeartbeat)
    /// Traffic moves from `from` (nil before any link was active) to `to`.
    case switchActive(from: Int?, to: Int, reason: LinkSwitchReason)
    /// A better link was found but the active link is busy: `to` beats `from` by `gain` while `from` carries
    /// `kbps`. Reported once when the hold starts; the switch happens when traffic falls below the threshold
    /// and the gain still holds.
    case switchHeld(from: Int, to: Int, gain: Double, kbps: Double)
    /// `link` went down after `misses` unanswered heartbeats in a row.
    case linkDown(link: Int, misses: Int)
    /// `link` answered: up for the first time, or again after being down.
    case linkUp(link: Int)
    /// Resolve `link`'s host name again and call `addressChanged` if the address is new.
    case resolve(link: Int)
    /// DATA frames now go on `targets` (active link first); more than one means redundancy is on.
    case sendTargetsChanged(targets: [Int])
}
