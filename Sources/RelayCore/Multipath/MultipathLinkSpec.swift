/// What the LinkMonitor needs to know about one configured link (`links[i]` of a multipath-client listener):
/// its name for logs and metrics, and its priority. The remote address is the I/O side's business.
public struct MultipathLinkSpec: Sendable, Equatable, Hashable {
    /// The link's name, unique within the listener.
    public var name: String
    /// Score points added to the link's score (lower scores win), as in the seed: 0, the default, for the
    /// links to use by preference; a backup link with priority 50 is used only once it measures 50 points
    /// better than the others.
    public var priority: Double

    /// A link named `name` with `priority` penalty points.
    public init(name: String, priority: Double = 0) {
        self.name = name
        self.priority = priority
    }
}
