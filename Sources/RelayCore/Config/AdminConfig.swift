/// The `admin` section: the HTTP API and dashboard operators use to watch and steer relayd.
public struct AdminConfig: Sendable, Equatable {
    /// The address of the admin API (`listen`, default none: no admin API). A loopback address serves
    /// anyone on this machine; any other address requires `token`.
    public var listen: Endpoint?
    /// The bearer token every request must carry as `Authorization: Bearer TOKEN` (`token`, default none).
    /// Required when `listen` is not a loopback address; at least 16 characters. When set, it is required on
    /// loopback too. The dashboard page itself is served without it (it holds no data) and reads the token
    /// from the address fragment: `/dashboard#token=TOKEN`; `/healthz` and `/readyz` answer health checks
    /// without it, `/readyz` then with its status alone.
    public var token: String?

    public init(listen: Endpoint? = nil, token: String? = nil) {
        self.listen = listen
        self.token = token
    }

    static func read(from node: ConfigReader) -> AdminConfig? {
        node.object { fields in
            var config = AdminConfig()
            fields.read("listen", into: &config.listen) { $0.endpoint() }
            fields.read("token", into: &config.token) { token(from: $0) }
            if let listen = config.listen, !listen.isLoopback, config.token == nil, !fields.failedKeys.contains("listen") {
                fields.reject("token", "missing; the admin API listens on \(listen), which is not a loopback address, "
                              + "so it needs a token (or listen on 127.0.0.1)")
            }
            return fields.isValid ? config : nil
        }
    }

    private static func token(from value: ConfigReader) -> String? {
        guard case .string(let text) = value.value else { return value.expected("a string of at least 16 characters") }
        guard text.count >= 16 else {
            return value.reject("a token needs at least 16 characters; generate one with `openssl rand -hex 24`")
        }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return value.reject("a token may hold only printable ASCII characters without spaces")
        }
        return text
    }
}
