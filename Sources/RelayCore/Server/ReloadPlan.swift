/// What a config reload changes, worked out from the running config and the new one before anything is
/// touched, so a reload applies only a diff and leaves everything else (sockets, scores, connections) alone.
///
/// A pure value: `RelayServer.reload` turns it into actions, and tests check the decisions directly.
public struct ReloadPlan: Sendable, Equatable {
    /// Groups that are new.
    public var addedGroups: [String] = []
    /// Groups no longer in the config; their connections finish on the servers they have.
    public var removedGroups: [String] = []
    /// Groups whose settings or servers changed: replaced by a successor that keeps the scores of the
    /// servers that stay.
    public var changedGroups: [String] = []
    /// Listeners that are new.
    public var addedListeners: [String] = []
    /// Listeners no longer in the config: they stop accepting and drain.
    public var removedListeners: [String] = []
    /// Listeners that keep their sockets and take new settings (backend, limits, rate limits, timeouts) for
    /// new connections, including those whose group was replaced.
    public var updatedListeners: [String] = []
    /// Listeners whose address, protocol or socket options changed: bound anew, the old sockets drained.
    public var reboundListeners: [String] = []
    /// Sections whose change takes effect only at the next start; their running values stay.
    public var needsRestart: [String] = []
    /// The drain time changed.
    public var drainTimeoutChanged = false
    /// `log.level` or `log.format` changed; applied to every logger at once.
    public var logChanged = false
    /// The admin API moves to another address (or starts, or stops). A new token needs no rebind: it is read
    /// on each request.
    public var adminChanged = false
    /// The metrics endpoint moves to another address (or starts, or stops); a new path needs no rebind.
    public var metricsChanged = false

    /// Nothing to do.
    public var isEmpty: Bool {
        addedGroups.isEmpty && removedGroups.isEmpty && changedGroups.isEmpty && addedListeners.isEmpty
            && removedListeners.isEmpty && updatedListeners.isEmpty && reboundListeners.isEmpty
            && !drainTimeoutChanged && !logChanged && !adminChanged && !metricsChanged && !settingsChanged
            && !clusterChanged
    }

    /// The cluster's peers, key, timings or etcd endpoints changed: handed to the ClusterManager.
    public var clusterChanged = false

    /// Settings read on each use changed (admin token, metrics path): nothing to rebind, but a new config.
    public var settingsChanged = false

    public init(from old: RelayConfig, to new: RelayConfig) {
        for name in new.backends.keys.sorted() {
            guard let previous = old.backends[name] else {
                addedGroups.append(name)
                continue
            }
            if previous != new.backends[name] { changedGroups.append(name) }
        }
        removedGroups = old.backends.keys.filter { new.backends[$0] == nil }.sorted()

        let oldListeners = Dictionary(old.listeners.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let newNames = Set(new.listeners.map(\.name))
        for listener in new.listeners {
            guard let previous = oldListeners[listener.name] else {
                addedListeners.append(listener.name)
                continue
            }
            if !Self.sameSockets(previous, listener) {
                reboundListeners.append(listener.name)
            } else if previous != listener || listener.backend.map({ changedGroups.contains($0) }) == true
                || listener.routes.contains(where: { changedGroups.contains($0.backend) }) {
                updatedListeners.append(listener.name)
            }
        }
        removedListeners = old.listeners.map(\.name).filter { !newNames.contains($0) }

        if old.io != new.io { needsRestart.append("io") }
        if old.log.access != new.log.access || old.log.accessFile != new.log.accessFile {
            needsRestart.append("log.access")
        }
        logChanged = old.log.level != new.log.level || old.log.format != new.log.format
            || old.log.modules != new.log.modules
        drainTimeoutChanged = old.drainTimeout != new.drainTimeout
        adminChanged = old.admin.listen != new.admin.listen
        metricsChanged = old.metrics.listen != new.metrics.listen
        settingsChanged = old.admin.token != new.admin.token || old.metrics.path != new.metrics.path
        for (section, changed) in [
            ("cluster.node_id", old.cluster.nodeID != new.cluster.nodeID),
            ("cluster.mode", old.cluster.mode != new.cluster.mode),
            ("cluster.static.listen", old.cluster.staticMode.listen != new.cluster.staticMode.listen),
            ("cluster.etcd.prefix", old.cluster.etcd.prefix != new.cluster.etcd.prefix),
        ] where changed {
            needsRestart.append(section)
        }
        clusterChanged = old.cluster != new.cluster
    }

    /// Whether a listener can keep its sockets: same protocol, address and the options set on the listening
    /// socket (inherited by accepted ones).
    static func sameSockets(_ old: ListenerConfig, _ new: ListenerConfig) -> Bool {
        old.proto == new.proto && old.listen == new.listen && old.backlog == new.backlog
            && old.tcpNoDelay == new.tcpNoDelay && old.keepalive == new.keepalive
            // A multipath listener is built anew on any change: its links, keys and monitor come from the config.
            && (!new.proto.isMultipath || old == new)
    }

    /// One line for the log: what changed, by kind.
    public var summary: [(String, String)] {
        var fields: [(String, String)] = []
        func add(_ key: String, _ names: [String]) {
            if !names.isEmpty { fields.append((key, names.joined(separator: ","))) }
        }
        add("listeners_added", addedListeners)
        add("listeners_removed", removedListeners)
        add("listeners_updated", updatedListeners)
        add("listeners_rebound", reboundListeners)
        add("backends_added", addedGroups)
        add("backends_removed", removedGroups)
        add("backends_changed", changedGroups)
        if logChanged { fields.append(("log", "level/format")) }
        if adminChanged { fields.append(("admin", "rebound")) }
        if metricsChanged { fields.append(("metrics", "rebound")) }
        if clusterChanged { fields.append(("cluster", "reconfigured")) }
        add("needs_restart", needsRestart)
        return fields
    }
}
