import RelayIO
import Synchronization

/// One configured link of a multipath client, as the I/O side holds it: where its frames go now, the sockets they
/// leave from, and its byte counts.
///
/// Each link has sockets of its own (one per address family, bound to the wildcard address and an ephemeral
/// port), so the server sees every link at its own source address even when two links reach it over the same
/// route. The send path reads `address` under a lock (one copy, never an await); the LinkMonitor replaces it
/// when the name in `remote` resolves to a new address.
public final class MultipathLink: Sendable {
    /// The link's index: its number in frames and in the LinkMonitor.
    public let index: Int
    /// `links[i].name`.
    public let name: String
    /// `links[i].remote` as configured: an address, or a host name resolved again every `dns_refresh`.
    public let remote: ServerEntry.Target
    /// `links[i].priority`.
    public let priority: Double
    /// The IPv4 socket; nil when it could not be bound.
    let socket4: UDPSocket?
    /// The IPv6 socket; nil when the host has no IPv6.
    let socket6: UDPSocket?
    /// Where the link's frames go; nil until a host name first resolved.
    private let currentAddress: SanitizerVisibleMutex<SocketAddress?>
    /// Bytes of frames sent and received on the link (UDP payloads), heartbeats included.
    public let bytesSent = Atomic<Int>(0), bytesReceived = Atomic<Int>(0)
    /// Frames sent and received on the link.
    public let framesSent = Atomic<Int>(0), framesReceived = Atomic<Int>(0)
    /// Times the name in `remote` was resolved (the first time and every `dns_refresh` after).
    public let resolutions = Atomic<Int>(0)
    /// Frames the kernel refused to take (send buffer full, or an error such as a route gone).
    public let sendFailures = Atomic<Int>(0)

    /// A link whose sockets live on `loop`; an address target is used as is, a host name waits for resolution.
    init(index: Int, config: MultipathLinkConfig, loop: EventLoop) throws {
        self.index = index
        name = config.name
        remote = config.remote
        priority = config.priority
        socket4 = try? UDPSocket.bind(try SocketAddress(ip: "0.0.0.0", port: 0), on: loop)
        socket6 = try? UDPSocket.bind(try SocketAddress(ip: "::", port: 0), on: loop)
        if socket4 == nil, socket6 == nil {
            throw ListenerError(listener: config.name, address: config.remote.description,
                                reason: "cannot bind a UDP socket for this link")
        }
        if case .address(let endpoint) = config.remote {
            currentAddress = SanitizerVisibleMutex(try SocketAddress(ip: endpoint.host, port: endpoint.port))
        } else {
            currentAddress = SanitizerVisibleMutex(nil)
        }
    }

    /// Where the link's frames go now.
    public var address: SocketAddress? { currentAddress.withLock { $0 } }

    /// Points the link at `address`; returns whether it changed.
    @discardableResult
    func setAddress(_ address: SocketAddress) -> Bool {
        currentAddress.withLock { current in
            guard current != address else { return false }
            current = address
            return true
        }
    }

    /// The sockets to receive on.
    var sockets: [UDPSocket] { [socket4, socket6].compactMap { $0 } }

    /// Sends one frame now, without waiting: a full send buffer or an error drops it and counts it (the link's
    /// heartbeats see the loss). Returns whether the kernel took it.
    @discardableResult
    func send(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard let address, let socket = address.isIPv6 ? socket6 : socket4 else {
            sendFailures.add(1, ordering: .relaxed)
            return false
        }
        do {
            guard case .processed = try socket.sendNow(frame, to: address) else {
                sendFailures.add(1, ordering: .relaxed)
                return false
            }
        } catch {
            sendFailures.add(1, ordering: .relaxed)
            return false
        }
        bytesSent.add(frame.count, ordering: .relaxed)
        framesSent.add(1, ordering: .relaxed)
        return true
    }

    /// `send` for an array.
    @discardableResult
    func send(_ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { send($0) }
    }

    /// Bytes both ways so far: what the LinkMonitor's throughput guard measures.
    var totalBytes: UInt64 {
        UInt64(bytesSent.load(ordering: .relaxed) + bytesReceived.load(ordering: .relaxed))
    }

    /// Closes the sockets.
    func close() {
        socket4?.close()
        socket6?.close()
    }

    /// Wakes the receive loops so they end.
    func abort() {
        socket4?.abort()
        socket6?.abort()
    }
}
