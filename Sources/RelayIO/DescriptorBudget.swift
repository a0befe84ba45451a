import CRelayIO
#if canImport(Glibc)
import Glibc
#endif

/// How many sockets and pipe ends relayd may hold at once, so that it never spends the last descriptors under
/// its open-files limit.
///
/// At the limit, every `open` in the process fails, not only relayd's own: the Swift runtime's thread pool on
/// Linux (libdispatch) reads `/proc/<thread>/stat` to see whether its workers are running and aborts the process
/// when it cannot open it. So sockets and pipes (everything that grows with traffic) are counted, and one that
/// would take the process within `reserve` descriptors of its limit fails with `EMFILE` before the kernel is asked:
/// a local shortage like any other (the connection or datagram is refused and counted, no server is blamed), with
/// descriptors left for the runtime, configuration and key files, the access log and name lookups.
public enum DescriptorBudget {
    /// What `configure` decided.
    public struct Allotment: Sendable, Equatable {
        /// The open-files limit (soft `RLIMIT_NOFILE`).
        public var limit: Int
        /// Descriptors open that the budget does not count (standard streams, event loops, log files).
        public var uncounted: Int
        /// Descriptors kept free.
        public var reserve: Int
        /// Sockets and pipe ends relayd may hold at once.
        public var budget: Int
    }

    /// Computes the allotment for an open-files `limit` with `uncounted` other descriptors open: keeps
    /// `preferredReserve` free (16), or a quarter of what is left under a tiny limit, and at least 4.
    public static func allotment(limit: Int, uncounted: Int, preferredReserve: Int = 16) -> Allotment {
        let available = max(0, limit - uncounted)
        let reserve = min(preferredReserve, max(4, available / 4))
        return Allotment(limit: limit, uncounted: uncounted, reserve: reserve, budget: max(1, available - reserve))
    }

    /// Sets the budget from the process's open-files limit and the descriptors open now; returns what it decided,
    /// or nil when the limit is unlimited or unreadable (no budget then).
    @discardableResult
    public static func configure(preferredReserve: Int = 16) -> Allotment? {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0, limits.rlim_cur != rlim_t.max,
              let open = openDescriptors() else { return nil }
        let counted = crelay_descriptors_counted()
        let allotment = allotment(limit: Int(clamping: limits.rlim_cur), uncounted: max(0, open - counted),
                                  preferredReserve: preferredReserve)
        crelay_descriptor_budget_set(allotment.budget)
        return allotment
    }

    /// Removes the budget.
    public static func remove() {
        crelay_descriptor_budget_set(Int.max)
    }

    /// Sockets and pipe ends open now.
    public static var counted: Int { crelay_descriptors_counted() }

    /// The budget in force (`Int.max`: none).
    public static var budget: Int { crelay_descriptor_budget() }

    /// Descriptors open in this process, from `/proc/self/fd` (the directory's own descriptor not counted).
    static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { Array($0.prefix(while: { $0 != 0 })) }
            if name != Array(".".utf8) && name != Array("..".utf8) { count += 1 }
        }
        return count - 1
    }
}
