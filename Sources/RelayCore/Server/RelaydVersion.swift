/// relayd's version, shown by `relayd version`, the admin API and `relayd_build_info`.
public enum RelaydVersion {
    public static let current = "0.1.0"
}
