import RelayIO
import Synchronization

/// Each new connection goes to the next server of the set, wrapping around; excluded servers are
/// skipped by moving on to the one after.
///
/// One shared atomic cursor, advanced once per pick whatever the set, so concurrent picks never
/// contend on a lock. Skipping an excluded server hands its turn to the next one (as nginx and HAProxy
/// do on retry); the Selector, not the balancer, is what removes a server that keeps failing.
public final class RoundRobinBalancer: Balancer {
    /// Turns taken so far; the pick starts at `cursor % count`. Unsigned so the modulo never goes negative.
    private let cursor = Atomic<UInt>(0)

    public init() {}

    public func pick(from set: ActiveSet, client: IPKey?, excluding excluded: [ServerHandle]) -> ServerHandle? {
        let servers = set.servers
        guard !servers.isEmpty else { return nil }
        let count = UInt(servers.count)
        let start = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        if excluded.isEmpty { return servers[Int(start % count)] }
        for offset in 0..<count {
            let server = servers[Int((start &+ offset) % count)]
            if !excluded.contains(server) { return server }
        }
        return nil
    }
}
