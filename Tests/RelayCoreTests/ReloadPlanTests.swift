import Testing
@testable import RelayCore

@Suite struct ReloadPlanTests {
    func config(_ text: String) throws -> RelayConfig { try RelayConfig.parse(text) }

    let base = """
        {
          listeners: [
            { name: "web", listen: "127.0.0.1:8080", backend: "app" },
            { name: "dns", protocol: "udp", listen: "127.0.0.1:5353", backend: "app" },
            { name: "echo", protocol: "echo", listen: "127.0.0.1:9001" },
          ],
          // `app` serves a tcp and a udp listener, so its probe kind must be given.
          backends: { app: { servers: ["127.0.0.1:9001"], probe: { kind: "tcp" } },
                      spare: { servers: ["127.0.0.1:9002"] } },
        }
        """

    @Test func sameConfig_changesNothing() throws {
        let plan = ReloadPlan(from: try config(base), to: try config(base))
        #expect(plan.isEmpty)
        #expect(plan.summary.isEmpty)
    }

    @Test func changedServers_replaceTheGroup_andUpdateItsListenersInPlace() throws {
        let next = base.replacingOccurrences(of: "servers: [\"127.0.0.1:9001\"]", with: "servers: [\"127.0.0.1:9003\"]")
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.changedGroups == ["app"])
        #expect(plan.updatedListeners == ["web", "dns"])
        #expect(plan.reboundListeners.isEmpty && plan.addedListeners.isEmpty && plan.removedListeners.isEmpty)
    }

    @Test func newAddress_rebindsTheListener() throws {
        let next = base.replacingOccurrences(of: "127.0.0.1:8080", with: "127.0.0.1:8081")
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.reboundListeners == ["web"])
        #expect(plan.updatedListeners.isEmpty)
    }

    @Test func newLimit_updatesInPlace() throws {
        let next = base.replacingOccurrences(of: "8080\", backend: \"app\" }", with: "8080\", backend: \"app\", max_connections: 5 }")
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.updatedListeners == ["web"])
        #expect(plan.changedGroups.isEmpty)
    }

    @Test func socketOption_rebinds() throws {
        let next = base.replacingOccurrences(of: "8080\", backend: \"app\" }", with: "8080\", backend: \"app\", backlog: 16 }")
        #expect(ReloadPlan(from: try config(base), to: try config(next)).reboundListeners == ["web"])
    }

    @Test func listenersAndGroups_addedAndRemoved() throws {
        let next = """
            {
              listeners: [
                { name: "web", listen: "127.0.0.1:8080", backend: "app" },
                { name: "api", listen: "127.0.0.1:8090", backend: "api" },
              ],
              backends: { app: { servers: ["127.0.0.1:9001"] }, api: { servers: ["127.0.0.1:9004"] } },
            }
            """
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.addedListeners == ["api"])
        #expect(plan.removedListeners == ["dns", "echo"])
        #expect(plan.addedGroups == ["api"])
        #expect(plan.removedGroups == ["spare"])
        #expect(plan.updatedListeners.isEmpty)
    }

    @Test func ioAndAccessLogChanges_needARestart_levelAndFormatDoNot() throws {
        let next = base.replacingOccurrences(of: "backends:",
                                             with: "io: { loops: 3 }, log: { level: \"debug\", access: true }, backends:")
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.needsRestart == ["io", "log.access"])
        #expect(plan.logChanged)
        let levelOnly = base.replacingOccurrences(of: "backends:", with: "log: { format: \"json\" }, backends:")
        let second = ReloadPlan(from: try config(base), to: try config(levelOnly))
        #expect(second.needsRestart.isEmpty && second.logChanged && !second.isEmpty)
    }

    @Test func drainTimeout_isApplied() throws {
        let next = base.replacingOccurrences(of: "backends:", with: "drain_timeout: \"5s\", backends:")
        let plan = ReloadPlan(from: try config(base), to: try config(next))
        #expect(plan.drainTimeoutChanged)
        #expect(!plan.isEmpty)
    }
}
