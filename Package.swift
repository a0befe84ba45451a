// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "relayd",
    products: [
        .executable(name: "relayd", targets: ["relayd"]),
        .library(name: "RelayCore", targets: ["RelayCore"]),
        .library(name: "RelayIO", targets: ["RelayIO"]),
        .library(name: "RelayProtocol", targets: ["RelayProtocol"]),
    ],
    targets: [
        // Thin C shim for the Linux calls Glibc does not expose to Swift (epoll, eventfd, accept4,
        // splice, recvmmsg/sendmmsg, fcntl).
        .target(name: "CRelayIO"),
        .target(name: "RelayIO", dependencies: ["CRelayIO"]),
        // Pure codecs with no I/O (HTTP/1.1 requests for the admin API, Prometheus text): what fuzzers hit.
        .target(name: "RelayProtocol"),
        // The admin dashboard is a page of its own, compiled into the binary as bytes: no files to find at run time.
        .target(name: "RelayCore", dependencies: ["RelayIO", "RelayProtocol"],
                resources: [.embedInCode("Admin/dashboard.html")]),
        .executableTarget(name: "relayd", dependencies: ["RelayCore", "RelayIO"]),
        // The reliable-UDP benchmark's client (Tools/bench/reliable): stamped messages at a fixed rate, handshakes.
        .executableTarget(name: "reliable-load", dependencies: ["RelayCore", "RelayIO", "RelayProtocol"],
                          path: "Tools/bench/reliable-load"),
        // Test support: counts each thread's heap allocations, so tests can check that batched UDP I/O
        // allocates nothing per datagram.
        .target(name: "CAllocationCounter", path: "Tests/CAllocationCounter"),
        .target(name: "CChildProcess", path: "Tests/CChildProcess"),
        // Test support shared by every test target: bounded waits (`withTimeout`, `eventually`), in-process
        // backends and relays that always stop, clients, the `relayd` child process, and the Prometheus text
        // parser the metrics tests check relayd's output with. Public API of the modules under test only, so it
        // also builds where testability is off (`swift build -c release`).
        .target(name: "TestSupport", dependencies: ["CChildProcess", "CRelayIO", "RelayCore", "RelayIO", "RelayProtocol"],
                path: "Tests/TestSupport"),
        .testTarget(name: "TestSupportTests", dependencies: ["TestSupport", "RelayProtocol"]),
        .testTarget(name: "RelayIOTests", dependencies: ["RelayIO", "CAllocationCounter", "TestSupport"]),
        .testTarget(name: "RelayProtocolTests", dependencies: ["RelayProtocol", "TestSupport"]),
        .testTarget(name: "RelayCoreTests", dependencies: ["RelayCore", "RelayIO", "RelayProtocol", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
