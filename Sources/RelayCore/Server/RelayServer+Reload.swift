import RelayIO

/// Hot reload: a new config applied as a diff while everything runs.
///
/// A reload goes in two phases. First everything that can fail is built, touching nothing that runs: new and
/// changed backend groups, new sockets for added and rebound listeners and for moved admin and metrics endpoints.
/// If anything fails, what was built is discarded and the running config stays. Then the switch-over, in an
/// order that never leaves a listener without its group: new groups start, listeners are updated, removed and
/// started, old groups stop, and the drain timeout, log settings and endpoints follow. Each kind of change has
/// its function below, in that order.
extension RelayServer {
    /// Reads the config file again and applies it (SIGHUP, `POST /reload`). A file that cannot be read or
    /// does not validate is refused, and the running config stays.
    @discardableResult
    public func reload() async -> ReloadResult {
        guard let configPath else {
            return await reloads.run { self.refuse("this server was not started from a config file") }
        }
        return await reloads.run {
            self.notifier?.reloading()
            defer { self.notifier?.ready(status: self.statusLine) }
            let config: RelayConfig
            do throws(ConfigError) {
                config = try RelayConfig.load(path: configPath)
            } catch {
                return self.refuse("the new config is not valid: "
                                   + error.issues.map(\.description).joined(separator: "; "))
            }
            return await self.apply(config)
        }
    }

    /// Applies `config` as a diff: listeners added, removed (stop accepting, drain) or rebound, updated in
    /// place when their sockets stay; backend groups added, removed, or replaced by successors that keep the
    /// scores of servers that stay. Established connections are never cut by a reload (a removed listener's
    /// connections drain as on shutdown). If a new socket cannot be bound, nothing changes.
    @discardableResult
    public func reload(to config: RelayConfig) async -> ReloadResult {
        await reloads.run {
            self.notifier?.reloading()
            defer { self.notifier?.ready(status: self.statusLine) }
            return await self.apply(config)
        }
    }

    /// Counts and logs a refused reload; the running config stays.
    func refuse(_ reason: String) -> ReloadResult {
        let result = ReloadResult(applied: false, message: reason, plan: nil, generation: generation)
        runtime.withLock { state in
            state.reloadsFailed += 1
            state.lastReload = result
        }
        logger.error("config reload refused; the running config stays", ["reason": reason, "config": configPath ?? "-"])
        return result
    }

    /// What the first phase built and the switch-over has not yet handed to the supervisor; discarded (its
    /// sockets closed) when the reload is called off.
    struct PreparedReload {
        /// The groups by name as they will be: the running ones, with added, changed and removed applied.
        var groups: [String: BackendGroup]
        /// The added groups and the successors of changed ones, whose services the switch-over starts.
        var startedGroups: [BackendGroup] = []
        /// Services of added and rebound listeners, bound; each leaves as the switch-over starts it.
        var listeners: [String: ListenerService] = [:]
        /// The admin API at its new address (nil: none, or unchanged), bound.
        var admin: HTTPServerService?
        /// The Prometheus endpoint at its new address (nil: none, or unchanged), bound.
        var metricsEndpoint: HTTPServerService?

        /// Closes the sockets of what was built and not started.
        func discard() {
            for service in listeners.values { service.discard() }
            admin?.discard()
            metricsEndpoint?.discard()
        }
    }

    /// Runs one reload, the two phases in order; `reload()` and `reload(to:)` queue them one at a time.
    func apply(_ requested: RelayConfig) async -> ReloadResult {
        let current = runtime.withLock { $0 }
        let (next, plan) = planReload(requested, over: current.config)

        // 1. Build everything that can fail, touching nothing that runs.
        var prepared = PreparedReload(groups: current.backendGroups)
        do {
            try await buildGroups(plan, next, current: current, into: &prepared)
            let held = Set(current.tcpListeners.values.map(\.address) + current.udpListeners.values.map(\.address)
                           + current.reliableListeners.values.map(\.address)
                           + current.multipathClients.values.map(\.address) + current.multipathServers.values.map(\.address)
                           + [current.admin?.address, current.metricsEndpoint?.address].compactMap { $0 })
            try bindEndpoints(plan, next, held: held, into: &prepared)
            try bindListeners(plan, next, held: held, into: &prepared)
        } catch {
            prepared.discard()
            return refuse("could not apply the new config: \(error)")
        }

        // 2. Switch over. New groups first (listeners depend on them), then listeners, then old groups go.
        var state = current
        state.config = next
        state.backendGroups = prepared.groups
        do {
            try await startGroups(prepared.startedGroups)
            try await updateListeners(plan, next, state: state, groups: prepared.groups)
            await removeListeners(plan, state: &state)
            try await startListeners(next, state: &state, prepared: &prepared)
            await stopRemovedGroups(plan)
            await applyDrainTimeout(plan, next)
            applyLogSettings(plan, next)
            if plan.clusterChanged { await clusterManager?.reconfigure(next.cluster) }
            try await swapEndpoints(plan, state: &state, prepared: &prepared)
        } catch {
            // Only a shutdown that began meanwhile gets here: the supervisor takes no new service.
            prepared.discard()
            return refuse("could not apply the new config: \(error)")
        }
        return finish(plan, next, state: state)
    }

    /// The config to run and what changes. Sections that need a restart keep their running values, so what
    /// runs always matches `config`; the plan still names them, and a warning says they wait for a restart.
    func planReload(_ requested: RelayConfig, over running: RelayConfig) -> (next: RelayConfig, plan: ReloadPlan) {
        var next = requested
        next.io = running.io
        next.log.access = running.log.access
        next.log.accessFile = running.log.accessFile
        // A node keeps its identity and its heartbeat socket or etcd keys until it restarts.
        next.cluster.nodeID = running.cluster.nodeID
        next.cluster.mode = running.cluster.mode
        next.cluster.staticMode.listen = running.cluster.staticMode.listen
        next.cluster.etcd.prefix = running.cluster.etcd.prefix
        var plan = ReloadPlan(from: running, to: next)
        plan.needsRestart = ReloadPlan(from: running, to: requested).needsRestart
        if !plan.needsRestart.isEmpty {
            logger.warn("config reload: some changes take effect only after a restart; they are ignored until then",
                        ["sections": plan.needsRestart.joined(separator: ",")])
        }
        return (next, plan)
    }

    // MARK: - Backend groups

    /// Builds the added groups and the successors of changed ones (which keep the scores of the servers that
    /// stay), and takes removed groups out of the map new listeners are built against.
    func buildGroups(_ plan: ReloadPlan, _ next: RelayConfig, current: Runtime,
                     into prepared: inout PreparedReload) async throws {
        for name in plan.addedGroups {
            let group = try Self.makeGroup(name: name, config: next.backends[name]!, logger: logger)
            prepared.groups[name] = group
            prepared.startedGroups.append(group)
        }
        for name in plan.changedGroups {
            let group = try await current.backendGroups[name]!.successor(config: next.backends[name]!, logger: logger)
            prepared.groups[name] = group
            prepared.startedGroups.append(group)
        }
        for name in plan.removedGroups { prepared.groups[name] = nil }
    }

    /// Starts the services of added groups, and of changed groups in place of their predecessors'.
    func startGroups(_ groups: [BackendGroup]) async throws {
        for group in groups {
            let service = BackendGroupService(group: group, loops: loops, logger: logger, cluster: cluster)
            await supervisor.remove(service.name)
            try await supervisor.add(service)
        }
    }

    /// Stops the services of removed groups, once no listener sends to them.
    func stopRemovedGroups(_ plan: ReloadPlan) async {
        for name in plan.removedGroups {
            await supervisor.remove("backend:\(name)")
        }
    }

    // MARK: - Listeners

    /// Binds the sockets of added listeners and of rebound ones (beside the old sockets when the address is
    /// one this process holds).
    func bindListeners(_ plan: ReloadPlan, _ next: RelayConfig, held: Set<SocketAddress>,
                       into prepared: inout PreparedReload) throws {
        for listener in next.listeners where plan.addedListeners.contains(listener.name)
            || plan.reboundListeners.contains(listener.name) {
            let address = try SocketAddress(ip: listener.listen.host, port: listener.listen.port)
            let sharing = address.port != 0 && held.contains(address)
            prepared.listeners[listener.name] = try Self.makeListener(
                listener, groups: prepared.groups, io: next.io, loops: loops, sharing: sharing, accessLog: accessLog,
                logger: logger)
        }
    }

    /// Updates the listeners whose sockets stay: new connections and flows get the new group, limits and
    /// timeouts; open ones keep theirs. Rate limits change in place, each client keeping the tokens it has.
    func updateListeners(_ plan: ReloadPlan, _ next: RelayConfig, state: Runtime,
                         groups: [String: BackendGroup]) async throws {
        for listener in next.listeners where plan.updatedListeners.contains(listener.name) {
            if let tcp = state.tcpListeners[listener.name] {
                let role = try Self.role(for: listener, in: groups, accessLog: accessLog, logger: logger)
                await tcp.update(role: role, maxConnections: listener.maxConnections,
                                 maxConnectionsPerIP: listener.maxConnectionsPerIP, timeouts: listener.connectionTimeouts,
                                 rateLimit: listener.rateLimit, acceptProxy: listener.acceptProxy)
            } else if let udp = state.udpListeners[listener.name] {
                let group = try Self.group(for: listener, in: groups)
                udp.updateRoutes(try Self.routes(for: listener, fallback: group, in: groups))
                await udp.update(group: group, idleTimeout: listener.idleTimeout,
                                 maxFlows: listener.maxFlows, responses: listener.responses,
                                 rateLimit: listener.rateLimit)
            } else if let reliable = state.reliableListeners[listener.name], let settings = listener.reliable {
                await reliable.update(group: try Self.group(for: listener, in: groups),
                                      idleTimeout: listener.idleTimeout, reliable: settings,
                                      rateLimit: listener.rateLimit)
            }
        }
    }

    /// Stops removed listeners and the old services of rebound ones: they stop accepting and drain as on shutdown.
    func removeListeners(_ plan: ReloadPlan, state: inout Runtime) async {
        for name in plan.removedListeners + plan.reboundListeners {
            await supervisor.remove(name)
            state.tcpListeners[name] = nil
            state.udpListeners[name] = nil
            state.reliableListeners[name] = nil
            if state.multipathClients.removeValue(forKey: name) != nil { await supervisor.remove("links:\(name)") }
            state.multipathServers[name] = nil
        }
    }

    /// Starts the services of added and rebound listeners, in config order.
    func startListeners(_ next: RelayConfig, state: inout Runtime, prepared: inout PreparedReload) async throws {
        for listener in next.listeners {
            guard let service = prepared.listeners.removeValue(forKey: listener.name) else { continue }
            if case let .multipathClient(client) = service { try await supervisor.add(client.monitor) }
            try await supervisor.add(service.service)
            switch service {
            case let .tcp(tcp): state.tcpListeners[listener.name] = tcp
            case let .udp(udp): state.udpListeners[listener.name] = udp
            case let .reliable(reliable): state.reliableListeners[listener.name] = reliable
            case let .multipathClient(client): state.multipathClients[listener.name] = client
            case let .multipathServer(server): state.multipathServers[listener.name] = server
            }
        }
    }

    // MARK: - Admin and metrics endpoints

    /// Binds the admin API and the Prometheus endpoint at their new addresses, when those changed.
    func bindEndpoints(_ plan: ReloadPlan, _ next: RelayConfig, held: Set<SocketAddress>,
                       into prepared: inout PreparedReload) throws {
        if plan.adminChanged {
            let sharing = next.admin.listen.map { held.contains(address: $0) } ?? false
            prepared.admin = try Self.makeAdmin(next.admin, reference: reference, loops: loops, sharing: sharing,
                                                logger: logger)
        }
        if plan.metricsChanged {
            let sharing = next.metrics.listen.map { held.contains(address: $0) } ?? false
            prepared.metricsEndpoint = try Self.makeMetricsEndpoint(next.metrics, reference: reference, loops: loops,
                                                                    sharing: sharing, logger: logger)
        }
    }

    /// Replaces the admin API and the Prometheus endpoint whose addresses changed (or removes them).
    func swapEndpoints(_ plan: ReloadPlan, state: inout Runtime, prepared: inout PreparedReload) async throws {
        if plan.adminChanged {
            await supervisor.remove("admin")
            state.admin = prepared.admin
            if let admin = prepared.admin { try await supervisor.add(admin) }
            prepared.admin = nil
        }
        if plan.metricsChanged {
            await supervisor.remove("metrics")
            state.metricsEndpoint = prepared.metricsEndpoint
            if let metricsEndpoint = prepared.metricsEndpoint { try await supervisor.add(metricsEndpoint) }
            prepared.metricsEndpoint = nil
        }
    }

    // MARK: - Settings

    /// Gives the supervisor the new drain timeout, for the next shutdown.
    func applyDrainTimeout(_ plan: ReloadPlan, _ next: RelayConfig) async {
        if plan.drainTimeoutChanged { await supervisor.setDrainTimeout(next.drainTimeout) }
    }

    /// Sets the new log level and format, shared by every copy of the logger.
    func applyLogSettings(_ plan: ReloadPlan, _ next: RelayConfig) {
        if plan.logChanged {
            logger.settings.apply(level: next.log.level, format: next.log.format, modules: next.log.modules)
        }
    }

    // MARK: - Bookkeeping

    /// Records an applied reload (a new generation when anything changed), reopens the access log file (so a log
    /// rotated by renaming is followed), publishes the new runtime and logs what changed.
    func finish(_ plan: ReloadPlan, _ next: RelayConfig, state: Runtime) -> ReloadResult {
        var state = state
        if !plan.isEmpty {
            state.generation += 1
            state.loadedAt = WallClock.seconds()
        }
        state.reloadsSucceeded += 1
        if let logOutput {
            do {
                try logOutput.apply(next.log.output)
            } catch {
                logger.warn("could not open the log output; lines keep going where they went",
                            ["output": next.log.output, "error": error,
                             "hint": "check that the directory exists and relayd may write there"])
            }
        }
        do {
            try accessLog?.reopen()
        } catch {
            logger.warn("could not reopen the access log; writing to the file already open",
                        ["file": next.log.accessFile ?? "-", "error": error])
        }
        let result = ReloadResult(applied: true, message: plan.isEmpty ? "no change" : "applied", plan: plan,
                                  generation: state.generation)
        state.lastReload = result
        let final = state
        runtime.withLock { $0 = final }
        let changes = plan.isEmpty ? [("changes", "none")] : plan.summary
        logger.log(.info, "config reloaded", fields: [("generation", String(final.generation))] + changes)
        return result
    }
}

extension Set<SocketAddress> {
    /// Whether an address this process holds is the one `endpoint` names (port 0 never matches: it asks for a
    /// fresh port).
    fileprivate func contains(address endpoint: Endpoint) -> Bool {
        guard endpoint.port != 0, let address = try? SocketAddress(ip: endpoint.host, port: endpoint.port) else {
            return false
        }
        return contains(address)
    }
}
