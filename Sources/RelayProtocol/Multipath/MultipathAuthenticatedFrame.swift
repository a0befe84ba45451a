/// A frame whose tag verified under its client's key and that the replay filter accepted as fresh.
///
/// Only `MultipathChannel.open` makes one (the initialiser is internal to this module), so code that takes an
/// `MultipathAuthenticatedFrame` — the server's return-path choice, the flow table — cannot be handed a forged,
/// replayed or duplicated frame by mistake.
public struct MultipathAuthenticatedFrame: Sendable, Equatable {
    /// The frame.
    public let frame: MultipathFrame

    /// Wraps a frame that has passed both checks.
    init(frame: MultipathFrame) {
        self.frame = frame
    }
}
