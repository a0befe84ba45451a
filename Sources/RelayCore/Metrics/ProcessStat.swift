/// The fields relayd exports from `/proc/self/stat`.
///
/// The second field is the command name in parentheses, and that name may itself contain spaces and `)`
/// (a thread can rename itself to anything), so the fields are counted from after the *last* `)`, as
/// `proc(5)` advises.
struct ProcessStat: Equatable {
    /// User-mode CPU time, in clock ticks (field 14).
    var userTicks: UInt64
    /// Kernel-mode CPU time, in clock ticks (field 15).
    var systemTicks: UInt64
    /// Threads in the process (field 20).
    var threads: UInt64
    /// When the process started, in clock ticks after boot (field 22).
    var startTicks: UInt64
    /// Virtual memory size, in bytes (field 23).
    var virtualBytes: UInt64
    /// Resident set size, in pages (field 24).
    var residentPages: UInt64

    init(userTicks: UInt64, systemTicks: UInt64, threads: UInt64, startTicks: UInt64, virtualBytes: UInt64,
         residentPages: UInt64) {
        self.userTicks = userTicks
        self.systemTicks = systemTicks
        self.threads = threads
        self.startTicks = startTicks
        self.virtualBytes = virtualBytes
        self.residentPages = residentPages
    }

    /// The fields of `text`, the contents of a `stat` file; nil when it does not have them.
    init?(parsing text: String) {
        guard let close = text.utf8.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // After the last ")": field 3 (state) comes first, so field n is at offset n - 3.
        let fields = text.utf8[text.utf8.index(after: close)...].split(separator: UInt8(ascii: " "))
        func field(_ number: Int) -> UInt64? {
            let offset = number - 3
            guard offset < fields.count else { return nil }
            return UInt64(String(decoding: fields[offset], as: UTF8.self))
        }
        guard let userTicks = field(14), let systemTicks = field(15), let threads = field(20),
              let startTicks = field(22), let virtualBytes = field(23), let residentPages = field(24)
        else { return nil }
        self.init(userTicks: userTicks, systemTicks: systemTicks, threads: threads, startTicks: startTicks,
                  virtualBytes: virtualBytes, residentPages: residentPages)
    }

    /// The boot time in seconds since the epoch, from the `btime` line of `/proc/stat`.
    static func bootTime(parsing text: String) -> UInt64? {
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return UInt64(line.dropFirst("btime ".count).trimmingPrefix(while: { $0 == " " }))
        }
        return nil
    }
}
