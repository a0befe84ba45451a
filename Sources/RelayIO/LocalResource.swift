/// What relayd can run short of on its own machine.
public enum LocalResource: String, Sendable, CaseIterable {
    /// The process's open-files limit (EMFILE).
    case fileDescriptors = "file_descriptors"
    /// The system-wide open-files table (ENFILE).
    case systemFileDescriptors = "system_file_descriptors"
    /// Kernel socket buffers or memory (ENOBUFS, ENOMEM).
    case memory
    /// Local ports for outgoing connections (EADDRNOTAVAIL, EADDRINUSE on connect).
    case ephemeralPorts = "ephemeral_ports"

    /// What ran out, in words.
    public var phrase: String {
        switch self {
        case .fileDescriptors: return "file descriptors"
        case .systemFileDescriptors: return "system-wide file descriptors"
        case .memory: return "socket memory"
        case .ephemeralPorts: return "local ports"
        }
    }

    /// What to do about it, for a log line.
    public var hint: String {
        switch self {
        case .fileDescriptors:
            return "raise the open-files limit (ulimit -n, LimitNOFILE) or lower max_connections"
        case .systemFileDescriptors:
            return "the whole system is out of open files: raise fs.file-max or find the process holding them"
        case .memory:
            return "the kernel is out of socket memory: check net.ipv4.tcp_mem and the machine's memory"
        case .ephemeralPorts:
            return "out of local ports to the server: widen net.ipv4.ip_local_port_range, enable a connection pool, "
                + "or add servers"
        }
    }
}
