/// One element of a multipath-client listener's `links`: a path to the multipath server.
public struct MultipathLinkConfig: Sendable, Equatable {
    /// `name`, required, unique in the listener: names the link in logs, metrics and `GET /links`.
    public var name: String
    /// `remote`, required: where frames for this link go, `IP:PORT`, `[IPv6]:PORT` or `HOST:PORT`; a host name is
    /// resolved at start, every `dns_refresh`, and whenever the link goes down.
    public var remote: ServerEntry.Target
    /// `priority`, default 0: score points added to the link's score (lower scores win), as in the seed; give a
    /// backup link a large one.
    public var priority: Double

    public init(name: String, remote: ServerEntry.Target, priority: Double = 0) {
        self.name = name
        self.remote = remote
        self.priority = priority
    }

    /// Reads one element of `links`.
    static func read(from node: ConfigReader) -> MultipathLinkConfig? {
        node.object { fields in
            let name = fields.required("name", "a name for the link, such as \"uplink-a\"") { $0.name() }
            let remote = fields.required("remote", "the multipath server's address over this link, such as "
                                         + "\"203.0.113.7:7000\" or \"relay-a.example:7000\"") { value -> ServerEntry.Target? in
                let wanted = #"an address such as "203.0.113.7:7000", "[2001:db8::1]:7000" or "relay.example:7000""#
                guard case .string(let text) = value.value else { return value.expected(wanted) }
                do {
                    guard case .target(let target) = try ServerSpec.parse(text, defaultPort: nil), target.port != 0
                    else { return value.expected(wanted, hint: "one address with a port other than 0") }
                    return target
                } catch let failure as ServerSpec.Failure {
                    return value.expected(wanted, hint: failure.message)
                } catch {
                    return value.expected(wanted)
                }
            }
            var link = MultipathLinkConfig(name: name ?? "", remote: remote ?? .hostname("invalid", port: 1))
            fields.read("priority", into: &link.priority) { $0.number(atLeast: 0) }
            return fields.isValid ? link : nil
        }
    }
}
