/// One server of a backend group as the config lists it: where it is, its share of traffic, and where it was
/// written, so later messages (a failed probe, a name that stopped resolving) can point back at the line.
public struct ServerEntry: Sendable, Equatable {
    /// Where a server is.
    public enum Target: Sendable, Hashable, CustomStringConvertible {
        /// An IP address and port, used as written (an address block in the config gives one of these per address).
        case address(Endpoint)
        /// A DNS name, in lower case, and the port; resolved at run time and again every `dns_refresh`.
        case hostname(String, port: UInt16)

        /// The port to connect to.
        public var port: UInt16 {
            switch self {
            case .address(let endpoint): endpoint.port
            case .hostname(_, let port): port
            }
        }

        /// `10.0.0.1:8080`, `[2001:db8::1]:8080` or `app.internal:8080`.
        public var description: String {
            switch self {
            case .address(let endpoint): endpoint.description
            case .hostname(let name, let port): "\(name):\(port)"
            }
        }
    }

    /// Where the server is.
    public var target: Target
    /// Its share of traffic relative to the other servers of the group, 1 to 1000 (default 1); balancers that
    /// ignore weights ignore it.
    public var weight: Int
    /// Where it was written: `backends.web.servers[2]` in the config, or `servers.txt:14` in a server list.
    public var origin: String

    public init(target: Target, weight: Int = 1, origin: String) {
        self.target = target
        self.weight = weight
        self.origin = origin
    }

    /// The weights a server may have.
    public static let weights = 1...1000
}
