#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import RelayIO

// Offline by design: only `localhost` and IP literals are resolved, which never leave the machine.
@Suite struct HostResolverTests {
    @Test func localhostResolvesToALoopbackAddressWithThePort() async throws {
        let addresses = try await HostResolver.resolve("localhost", port: 8080)
        #expect(!addresses.isEmpty)
        #expect(addresses.contains { $0.ip == "127.0.0.1" || $0.ip == "::1" })
        #expect(addresses.allSatisfy { $0.port == 8080 })
        #expect(Set(addresses).count == addresses.count)
    }

    @Test(arguments: [("127.0.0.1", "127.0.0.1:80"), ("::1", "[::1]:80"), ("10.1.2.3", "10.1.2.3:80"),
                      ("2001:db8::2", "[2001:db8::2]:80"), ("0:0::1", "[::1]:80")])
    func literalsResolveToThemselves(host: String, address: String) async throws {
        let addresses = try await HostResolver.resolve(host, port: 80)
        #expect(addresses.map(\.description) == [address])
    }

    @Test func unresolvableNameCarriesTheResolversReason() async throws {
        // AI_NUMERICHOST makes the resolver refuse any name without asking a server.
        let error = try await #require(throws: IOError.self) {
            try await HostResolver.resolve("localhost", port: 80, flags: AI_NUMERICHOST)
        }
        guard case .nameResolution(let host, let reason) = error else {
            Issue.record("expected a name resolution error, got \(error)")
            return
        }
        #expect(host == "localhost")
        #expect(reason == String(cString: gai_strerror(EAI_NONAME)))
        #expect(error.description == "cannot resolve localhost: \(reason)")
    }

    @Test func cancelledTaskGetsCancellationError() async throws {
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await HostResolver.resolve("localhost", port: 80)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }
}
