import Foundation
import RelayIO
import TestSupport

/// Config text for one reliable-udp listener called "rudp" in front of `servers`, on a free loopback port, with
/// the test keys file (`keysFile`, or a fresh one); `extra` goes into the listener object, `more` into the top
/// level, `otherListeners` (each object followed by a comma) before it in `listeners`.
func reliableConfig(servers: [SocketAddress], keysFile: String? = nil, extra: String = "", more: String = "",
                    otherListeners: String = "", accessFile: String? = nil)
    throws -> String
{
    let listen = try freeUDPAddress()
    let keys = try keysFile ?? ReliableTestKeys.file()
    let list = servers.map { "\"\($0)\"" }.joined(separator: ", ")
    return """
        {
          listeners: [ \(otherListeners) { name: "rudp", protocol: "reliable-udp", listen: "\(listen)", backend: "app",
                         keys_file: "\(keys)" \(extra) } ],
          backends: { app: { servers: [\(list)], balance: "round_robin",
                             probe: { kind: "udp", interval: "200ms", timeout: "300ms" },
                             selector: { evaluation_interval: "200ms", debounce: "0s" } } },
          drain_timeout: "2s",
          io: { loops: 2 },
          log: { level: "debug" \(accessFile.map { ", access_file: \"\($0)\"" } ?? "") },
          \(more)
        }
        """
}
