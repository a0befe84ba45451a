#if canImport(Glibc)
import Glibc
#endif
import RelayProtocol

/// The standard `process_*` metrics of Prometheus clients, read from `/proc` on each scrape: CPU time,
/// memory, file descriptors, start time and threads.
///
/// The names and meanings follow the client conventions exactly (no `relayd_` prefix), so existing
/// dashboards and alerts work unchanged. A value that cannot be read (no `/proc`, an unexpected format) is
/// left out of the scrape; nothing here throws or traps.
public struct ProcessMetrics: MetricsCollector {
    public init() {}

    /// The process metrics that could be read just now.
    public func collect() async -> [MetricFamilySnapshot] {
        Self.read()
    }

    static func read() -> [MetricFamilySnapshot] {
        var families: [MetricFamilySnapshot] = []
        func add(_ name: String, _ type: PrometheusMetricType, _ help: String, _ value: Double?) {
            guard let value else { return }
            families.append(MetricFamilySnapshot(name: name, type: type, help: help,
                                                 samples: [MetricSample(value: value)]))
        }
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let stat = (try? TextFile.read("/proc/self/stat", kind: "a stat file")).flatMap(ProcessStat.init(parsing:))
        let bootTime = (try? TextFile.read("/proc/stat", kind: "a stat file")).flatMap(ProcessStat.bootTime(parsing:))
        let clockKnown = ticksPerSecond > 0

        add("process_cpu_seconds_total", .counter, "Total user and system CPU time spent in seconds.",
            stat.flatMap { clockKnown ? Double($0.userTicks + $0.systemTicks) / ticksPerSecond : nil })
        add("process_max_fds", .gauge, "Maximum number of open file descriptors.", maximumDescriptors())
        add("process_open_fds", .gauge, "Number of open file descriptors.", openDescriptors().map(Double.init))
        add("process_resident_memory_bytes", .gauge, "Resident memory size in bytes.",
            stat.flatMap { pageSize > 0 ? Double($0.residentPages) * pageSize : nil })
        add("process_start_time_seconds", .gauge, "Start time of the process since unix epoch in seconds.",
            stat.flatMap { stat in
                bootTime.flatMap { clockKnown ? Double($0) + Double(stat.startTicks) / ticksPerSecond : nil }
            })
        add("process_threads", .gauge, "Number of OS threads in the process.", stat.map { Double($0.threads) })
        add("process_virtual_memory_bytes", .gauge, "Virtual memory size in bytes.",
            stat.map { Double($0.virtualBytes) })
        return families
    }

    /// Entries of `/proc/self/fd`, not counting the descriptor of the directory being read.
    static func openDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        let own = dirfd(directory)
        var count = 0
        errno = 0
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let descriptor = Int32(name), descriptor != own else { continue }
            count += 1
        }
        return errno == 0 ? count : nil
    }

    /// The soft limit on open descriptors.
    static func maximumDescriptors() -> Double? {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        return Double(limit.rlim_cur)
    }
}
