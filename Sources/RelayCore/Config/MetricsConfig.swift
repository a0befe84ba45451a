/// The `metrics` section: where Prometheus scrapes relayd.
public struct MetricsConfig: Sendable, Equatable {
    /// The address of the Prometheus endpoint (`listen`, default none: no endpoint). It serves only the
    /// metrics, without authentication, as Prometheus exporters do; keep it on a loopback or private address.
    public var listen: Endpoint?
    /// The path the metrics are served at (`path`, default `/metrics`).
    public var path: String

    public init(listen: Endpoint? = nil, path: String = "/metrics") {
        self.listen = listen
        self.path = path
    }

    static func read(from node: ConfigReader) -> MetricsConfig? {
        node.object { fields in
            var config = MetricsConfig()
            fields.read("listen", into: &config.listen) { $0.endpoint() }
            fields.read("path", into: &config.path) { $0.servedPath() }
            return fields.isValid ? config : nil
        }
    }
}

extension ConfigReader {
    /// An absolute URL path such as `/metrics` to serve at: starts with `/`, printable ASCII, no query.
    func servedPath() -> String? {
        guard case .string(let text) = value else { return expected("a path such as \"/metrics\"") }
        guard text.hasPrefix("/"), text.count <= 256,
              text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "?") && $0 != UInt8(ascii: "#") })
        else {
            return expected("a path such as \"/metrics\" (starting with `/`, no spaces, `?` or `#`)")
        }
        return text
    }
}
