/// The probe kind of a group whose `probe.kind` is not written: the protocol of the listeners that use the group.
///
/// A UDP service often has no TCP port at all, so probing a UDP listener's servers over TCP would show healthy
/// servers as down and send no traffic to them. A group shared by TCP and UDP listeners has no one right answer,
/// so there the config must say.
enum ProbeKindDefault: Sendable, Equatable {
    /// Only tcp listeners use the group, or none does: connect over TCP, the long-standing default.
    case tcp
    /// Only udp listeners use the group: send a datagram.
    case udp
    /// Listeners of both protocols use the group; each listener as it is named in messages.
    case mixed(tcp: [String], udp: [String])

    /// The default for a group used by `users`: each listener's protocol and how messages name it. Echo
    /// listeners relay nowhere and are ignored.
    init(users: [(proto: ListenerProtocol, name: String)]) {
        let tcp = users.filter { $0.proto == .tcp }.map(\.name)
        let udp = users.filter { $0.proto == .udp || $0.proto == .multipathServer }.map(\.name)
        switch (tcp.isEmpty, udp.isEmpty) {
        case (false, false): self = .mixed(tcp: tcp, udp: udp)
        case (true, false): self = .udp
        default: self = .tcp
        }
    }

    /// The kind's name in `probe.kind`; nil when the config must give it.
    var kindName: String? {
        switch self {
        case .tcp: "tcp"
        case .udp: "udp"
        case .mixed: nil
        }
    }

    /// Why the kind is what it is, after its name in messages: "(the default, since ...)".
    var reason: String {
        switch self {
        case .tcp: "(the default, since no udp listener uses this group)"
        case .udp: "(the default, since only udp listeners use this group)"
        case .mixed: ""
        }
    }

    /// The problem with a missing `probe.kind`, or nil when the default applies.
    var problem: String? {
        guard case .mixed(let tcp, let udp) = self else { return nil }
        return "missing; this group is used by \(Self.listing(tcp, as: "tcp")) and \(Self.listing(udp, as: "udp")), "
            + #"so its probe cannot follow their protocol; set `kind` to "tcp", "http" or "udp""#
    }

    /// "tcp listener `a` (listeners[0])" or "tcp listeners `a` (listeners[0]), `b` (listeners[2])".
    private static func listing(_ names: [String], as proto: String) -> String {
        "\(proto) listener\(names.count == 1 ? "" : "s") " + names.joined(separator: ", ")
    }
}
